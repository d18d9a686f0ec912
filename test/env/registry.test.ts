import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/schema.js';
import {
  createEnvironment,
  describeEnvironments,
  environmentNames,
  registerEnvironment,
  UnknownEnvironmentError,
} from '../../src/env/registry.js';
import { createSyntheticEnvironment } from '../../src/env/synthetic.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { runCli } from '../cli/run-cli.js';

const layout = deriveNetwork(modelParams('ei-clustered', 100)).layout;
const options = { layout, tickMs: 1, seed: 1, clockUs: () => 0 };

describe('environment registry', () => {
  it('creates a registered environment by name, with its own factory, and lists it with its description', async () => {
    // A variant of the synthetic environment with two channels, as a plug-in would register it.
    registerEnvironment('two-channel', 'synthetic source with two channels', (opts) =>
      createSyntheticEnvironment({ ...opts, settings: { channels: 2 } }),
    );
    expect(environmentNames()).toContain('two-channel');
    expect(describeEnvironments()).toContainEqual({
      name: 'two-channel',
      description: 'synthetic source with two channels',
    });
    const env = await createEnvironment('two-channel', options);
    try {
      const sample = env.sources[0]!.takeLatest();
      expect(sample?.values).toHaveLength(2);
    } finally {
      await env.close();
    }
  });

  it('refuses a second registration of a name and a malformed name', () => {
    expect(() => registerEnvironment('synthetic', 'again', createSyntheticEnvironment)).toThrow(
      'environment "synthetic" is already registered',
    );
    expect(() => registerEnvironment('My Env', 'bad', createSyntheticEnvironment)).toThrow(
      'environment name "My Env" must be lower-case letters, digits and dashes',
    );
  });

  it('names the known environments when asked for an unknown one', async () => {
    const error = await createEnvironment('mars', options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownEnvironmentError);
    expect(String(error)).toMatch(/unknown environment "mars"; expected one of synthetic, arena, ros2, ws/);
  });

  it('every built-in environment refuses an unknown --env-set key the same way', async () => {
    const expected: Record<string, string> = {
      synthetic: 'pattern, channels, rateHz, patternHz, gainPa, outputs',
      arena: 'seed, mapping',
      ros2: 'robot',
      ws: 'host, port, token, mapping',
    };
    for (const [name, known] of Object.entries(expected)) {
      const error = await createEnvironment(name, { ...options, settings: { bogus: 1 } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `${name} environment: unknown setting "bogus"; expected ${known}`,
      );
    }
  });

  it('describes every built-in environment in `spikeloop run --help`', () => {
    const help = runCli(['run', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Environments (--env):');
    for (const { name, description } of describeEnvironments().filter((e) => e.name !== 'two-channel')) {
      expect(help.stdout).toMatch(
        new RegExp(`^  ${name} +${description.slice(0, 20).replace(/[()]/g, '\\$&')}`, 'm'),
      );
    }
  });
});
