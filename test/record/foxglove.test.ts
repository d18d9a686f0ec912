import foxgloveProtocol from '@foxglove/ws-protocol';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { startFoxgloveServer } from '../../src/record/foxglove.js';
import { freePort } from '../loopback.js';

const { FoxgloveClient } = foxgloveProtocol;

interface Received {
  topics: Map<string, unknown[]>;
  advertised: string[];
  schemaNames: Map<string, string>;
}

/** A real Foxglove protocol client subscribing to every advertised channel. */
function connect(url: string): {
  received: Received;
  client: InstanceType<typeof FoxgloveClient>;
  opened: Promise<void>;
} {
  const received: Received = { topics: new Map(), advertised: [], schemaNames: new Map() };
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({
    ws: ws as unknown as ConstructorParameters<typeof FoxgloveClient>[0]['ws'],
  });
  const topicOf = new Map<number, string>();
  const decoder = new TextDecoder();
  client.on('advertise', (channels) => {
    for (const channel of channels) {
      received.advertised.push(channel.topic);
      received.schemaNames.set(channel.topic, channel.schemaName);
      topicOf.set(client.subscribe(channel.id), channel.topic);
    }
  });
  client.on('message', ({ subscriptionId, data }) => {
    const topic = topicOf.get(subscriptionId)!;
    const list = received.topics.get(topic) ?? [];
    list.push(JSON.parse(decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))));
    received.topics.set(topic, list);
  });
  const opened = new Promise<void>((resolve, reject) => {
    client.on('open', resolve);
    ws.once('error', reject);
  });
  return { received, client, opened };
}

describe('--foxglove live server', () => {
  it('serves the recording channels to a Foxglove client while an arena run goes on', async () => {
    const port = await freePort();
    let live: ReturnType<typeof connect> | null = null;
    const { summary } = await runClosedLoop({
      env: 'arena',
      durationS: 2,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 1,
      latePolicy: 'skip',
      handleSignals: false,
      foxglove: { port },
      onStart: async () => {
        live = connect(`ws://127.0.0.1:${port}/`);
        await live.opened;
        // Give the client time to receive the advertisement and subscribe before the first tick.
        for (let k = 0; k < 50 && live.received.advertised.length === 0; k++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return async () => live?.client.close();
      },
    });
    const { received } = live!;
    expect(received.advertised).toEqual(
      expect.arrayContaining([
        '/spikeloop/tick',
        '/spikeloop/population',
        '/spikeloop/spikes',
        '/sensor/ranges',
        '/sensor/target',
        '/motor/cmd_vel',
        '/arena/scene',
        '/arena/tf',
        '/arena/ranges',
      ]),
    );
    expect(received.schemaNames.get('/arena/scene')).toBe('foxglove.SceneUpdate');
    expect(received.schemaNames.get('/arena/ranges')).toBe('foxglove.LaserScan');
    const ticks = received.topics.get('/spikeloop/tick') as { tick: number; latenessUs: number }[];
    expect(ticks.length).toBeGreaterThan(Number(summary.ticks) / 2);
    expect(ticks.length).toBeLessThanOrEqual(Number(summary.ticks));
    const commands = received.topics.get('/motor/cmd_vel') as { values: number[] }[];
    expect(commands[0]!.values).toHaveLength(2);
    const scene = received.topics.get('/arena/scene') as { entities: { id: string }[] }[];
    expect(scene[0]!.entities.map((e) => e.id)).toEqual(['world', 'robot', 'target']);
    expect(
      (received.topics.get('/spikeloop/population') as { ratesHz: number[] }[])[0]!.ratesHz,
    ).toHaveLength(40);
  });

  it('needs a token beyond loopback and checks it before the upgrade', async () => {
    await expect(
      startFoxgloveServer(
        { loop: null as never, env: null as never, description: null as never },
        { host: '0.0.0.0' },
      ),
    ).rejects.toThrow(/a token is required/);

    const port = await freePort();
    let refused = '';
    let accepted = false;
    await runClosedLoop({
      env: 'synthetic',
      durationS: 0.3,
      tickMs: 1,
      n: 100,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 1,
      latePolicy: 'skip',
      handleSignals: false,
      foxglove: { port, token: 's3cret' },
      onStart: async () => {
        const bad = new WebSocket(`ws://127.0.0.1:${port}/?token=wrong`, [
          FoxgloveClient.SUPPORTED_SUBPROTOCOL,
        ]);
        bad.on('error', () => {});
        refused = await new Promise<string>((resolve) =>
          bad.once('unexpected-response', (_req, res) => resolve(String(res.statusCode))),
        );
        const good = connect(`ws://127.0.0.1:${port}/?token=s3cret`);
        await good.opened;
        accepted = true;
        good.client.close();
        return undefined;
      },
    });
    expect(refused).toBe('401');
    expect(accepted).toBe(true);
  });
});
