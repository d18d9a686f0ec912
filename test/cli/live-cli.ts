/** A running `spikeloop` process (from source through tsx, or any command) whose output can be awaited. */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SOURCE_CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

export interface LiveProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr (within `limitMs`). */
  waitForStderr(pattern: RegExp, limitMs?: number): Promise<RegExpMatchArray>;
  /** Exit code (or 128 + signal number when killed by a signal) and the output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): LiveProcess {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    for (const wake of [...waiters]) wake();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  let exited = false;
  void done.then(() => {
    exited = true;
    for (const wake of [...waiters]) wake();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForStderr: (pattern, limitMs = 90_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`timed out waiting for ${pattern} in stderr:\n${stderr}`)),
          limitMs,
        );
        const check = () => {
          const match = stderr.match(pattern);
          if (match) finish(null, match);
          else if (exited) finish(new Error(`exited before ${pattern} appeared in stderr:\n${stderr}`));
        };
        const finish = (error: Error | null, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          const index = waiters.indexOf(check);
          if (index >= 0) waiters.splice(index, 1);
          if (error) reject(error);
          else resolve(match!);
        };
        waiters.push(check);
        check();
      }),
  };
}

/** `spikeloop ARGS` from source. */
export function startCli(args: readonly string[], options: SpawnOptions = {}): LiveProcess {
  return startProcess(process.execPath, [...SOURCE_CLI, ...args], options);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `spikeloop ARGS` from source, run to completion (bounded by `timeoutMs`). */
export function runSourceCli(args: readonly string[], timeoutMs = 90_000) {
  const result = spawnSync(process.execPath, [...SOURCE_CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
