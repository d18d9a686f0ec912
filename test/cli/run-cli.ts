/** Runs the built `spikeloop` bin (npm test builds dist/ first) and captures its output. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: readonly string[],
  timeoutMs = 120_000,
  cwd?: string,
  env: NodeJS.ProcessEnv = process.env,
): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd,
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
