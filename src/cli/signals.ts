/**
 * How the CLI stops: one owner of SIGINT/SIGTERM for the whole process. The first signal asks the
 * running work (a closed loop) to stop and sets the exit code to 128 + signal number (130, 143);
 * with nothing to stop, the process exits with that code at once. Later signals never kill a
 * process that is still writing its report and summary: they get one line saying so.
 *
 * Under npm/npx the process is a grandchild (npm → sh -c → node): npm forwards a signal to the
 * shell only, and a SIGKILL of npm reaches no one, so spikeloop would run on as an orphan. When
 * started by npm it therefore watches its parent (and the npm process above a shell) and stops as
 * on SIGTERM when they are gone.
 */
import { readFileSync } from 'node:fs';

export type StopSignal = 'SIGINT' | 'SIGTERM';

const SIGNAL_NUMBERS: Record<StopSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** The conventional exit status of a process stopped by `signal`: 128 + its number. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

type StopHandler = (signal: StopSignal) => void;

const handlers = new Set<StopHandler>();
let received: StopSignal | null = null;
let repeatNoted = false;
let installed = false;

function deliver(signal: StopSignal, why?: string): void {
  if (received !== null) {
    if (!repeatNoted) {
      repeatNoted = true;
      process.stderr.write(
        `spikeloop: already stopping after ${received}: finishing the report and summary (kill -KILL ${process.pid} aborts and loses them)\n`,
      );
    }
    return;
  }
  received = signal;
  process.exitCode = signalExitCode(signal);
  if (why) process.stderr.write(`spikeloop: ${why}; stopping as on ${signal}\n`);
  // Nothing registered to flush: stop now, as the default handler would, with the same status.
  if (handlers.size === 0) process.exit(signalExitCode(signal));
  for (const handler of [...handlers]) handler(signal);
}

/** The signal that asked this process to stop, or null. */
export function stopSignal(): StopSignal | null {
  return received;
}

/**
 * Registers work to stop on SIGINT/SIGTERM; returns the function that unregisters it. A signal
 * that arrived before registration is delivered at once.
 */
export function onStopSignal(handler: StopHandler): () => void {
  installSignalHandling();
  handlers.add(handler);
  if (received !== null) handler(received);
  return () => {
    handlers.delete(handler);
  };
}

/** Installs the process's signal owner (idempotent); main.ts calls it before any command runs. */
export function installSignalHandling(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => deliver('SIGINT'));
  process.on('SIGTERM', () => deliver('SIGTERM'));
  watchNpmParent();
}

/** The parent pid of `pid` from /proc (Linux), or null. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    return Number.isInteger(parent) && parent > 0 ? parent : null;
  } catch {
    return null;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Started by npm (npm run, npm exec, npx): npm sets npm_command in its children's environment. */
function startedByNpm(): boolean {
  return process.env.npm_command !== undefined || process.env.npm_lifecycle_event !== undefined;
}

const WATCH_INTERVAL_MS = 250;

function watchNpmParent(): void {
  if (!startedByNpm() || process.env.SPIKELOOP_NO_PARENT_WATCH === '1') return;
  const parent = process.ppid;
  // npm runs commands through `sh -c`: the process to watch is then the shell's parent, npm.
  const shell = ['sh', 'dash', 'bash', 'zsh'].includes(commandOf(parent));
  const npm = shell ? parentOf(parent) : null;
  const timer = setInterval(() => {
    const orphaned = process.ppid !== parent || (npm !== null && npm !== 1 && !alive(npm));
    if (!orphaned) return;
    clearInterval(timer);
    deliver('SIGTERM', 'the npm/npx process that started spikeloop has exited');
  }, WATCH_INTERVAL_MS);
  timer.unref();
}
