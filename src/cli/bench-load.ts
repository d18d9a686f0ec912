/**
 * The load side of `bench loop --mode load`: the load-client processes (src/cli/load-client.ts)
 * started, waited for, marked at the loop's start, stopped and read at its end, and killed on any
 * exit path; and, where ROS 2 is set up, a subscription in this (the bridge's) process to the
 * ROS 2 traffic, so that its executor turns land on the bridge's main thread as a ROS 2 robot's
 * would.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RclApi, RclNode, RclTypeClass } from '../io/ros2/rcl-api.js';
import type { LoadClientResult } from './load-client.js';

const BIN = fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));

/**
 * How to start this CLI again: the same entry and Node flags as this process (the sources under
 * tsx in tests, the bin otherwise), so the load runs the same code as the benchmark.
 */
function selfCommand(): string[] {
  const entry = process.argv[1] ?? '';
  return /(?:spikeloop(?:\.js)?|main\.[jt]s)$/.test(entry) ? [...process.execArgv, entry] : [BIN];
}

/** Children still running, killed if this process exits before it stopped them. */
const running = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** One load-client process: ready / mark / stop over stdio, and its end noticed. */
export class LoadProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderrTail = '';
  private result: LoadClientResult | null = null;
  private stopping = false;
  private readonly exited: Promise<number | string>;
  private readyWaiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private isReady = false;

  constructor(
    /** What it is, for messages: "ws simulator + dashboard client", "ROS 2 publisher". */
    readonly label: string,
    args: readonly string[],
    /** Called once, with what happened, when the process ends before it was asked to stop. */
    onEarlyExit: (line: string) => void,
  ) {
    installExitHook();
    this.child = spawn(process.execPath, [...selfCommand(), 'load-client', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this.child);
    // Writing to a process that just died must not crash the benchmark; its exit is reported.
    this.child.stdin.on('error', () => {});
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (line) => {
      let message: { event?: string };
      try {
        message = JSON.parse(line) as { event?: string };
      } catch {
        return;
      }
      if (message.event === 'ready') {
        this.isReady = true;
        this.readyWaiter?.resolve();
      } else if (message.event === 'result') this.result = message as LoadClientResult;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        const status = code ?? signal ?? 'unknown';
        resolve(status);
        if (!this.stopping) {
          const reason = `the load's ${label} exited ${this.isReady ? 'during the run' : 'before it connected'} (${this.describeExit(status)})`;
          this.readyWaiter?.reject(new Error(`bench loop: ${reason}`));
          onEarlyExit(reason);
        }
      });
    });
  }

  private lastLine(): string | undefined {
    return this.stderrTail
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1);
  }

  /** `killed by SIGKILL`, or `exit 1: <its last line on stderr, which says why>`. */
  private describeExit(status: number | string): string {
    if (typeof status === 'string') return `killed by ${status}`;
    const last = this.lastLine();
    return `exit ${status}${last ? `: ${last}` : ''}`;
  }

  /** Resolves once every part of the process is connected; rejects with one line otherwise. */
  ready(timeoutMs: number): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiter = null;
        reject(
          new Error(
            `bench loop: the load's ${this.label} did not connect within ${timeoutMs / 1000} s${this.lastLine() ? ` (it said: ${this.lastLine()})` : ''}`,
          ),
        );
      }, timeoutMs);
      this.readyWaiter = {
        resolve: () => {
          clearTimeout(timer);
          this.readyWaiter = null;
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.readyWaiter = null;
          reject(error);
        },
      };
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The measured window starts now. */
  mark(): void {
    this.child.stdin.write('mark\n');
  }

  /**
   * Asks it to stop and returns what it counted, or null when it had died or did not answer;
   * it is killed if it has not exited within `timeoutMs` (SIGTERM, then SIGKILL).
   */
  async stop(timeoutMs = 5000): Promise<LoadClientResult | null> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end('stop\n');
      const waited = await Promise.race([this.exited, delay(timeoutMs).then(() => null)]);
      if (waited === null) {
        this.child.kill('SIGTERM');
        const termed = await Promise.race([this.exited, delay(2000).then(() => null)]);
        if (termed === null) {
          this.child.kill('SIGKILL');
          await this.exited;
        }
      }
    }
    return this.result;
  }

  /** Ends it now (failure paths): SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

let rclLoaded: Promise<RclApi> | null = null;

/** rclnodejs, initialised once for the whole benchmark (rcl allows one default context). */
async function rcl(): Promise<RclApi> {
  rclLoaded ??= (async () => {
    const { loadRclnodejs } = await import('../io/ros2/load.js');
    const api = await loadRclnodejs();
    await api.init(undefined, ['spikeloop-bench-loop']);
    return api;
  })();
  return rclLoaded;
}

/** Shuts rcl down if the benchmark started it. */
export async function shutdownRos2Traffic(): Promise<void> {
  if (rclLoaded === null) return;
  const api = await rclLoaded.catch(() => null);
  rclLoaded = null;
  if (api !== null && !api.isShutdown()) api.shutdown();
}

/** The bridge's end of the ROS 2 traffic: a LaserScan subscription counting what arrives. */
export class Ros2Traffic {
  received = 0;
  private firstWaiter: (() => void) | null = null;

  private constructor(private readonly node: RclNode) {}

  static async subscribe(topic: string): Promise<Ros2Traffic> {
    const api = await rcl();
    const node = api.createNode(`spikeloop_bench_loop_${process.pid}_${Date.now() % 1_000_000}`);
    const traffic = new Ros2Traffic(node);
    node.createSubscription('sensor_msgs/msg/LaserScan' as RclTypeClass, topic, () => {
      traffic.received++;
      traffic.firstWaiter?.();
    });
    node.spin();
    return traffic;
  }

  /** Whether a first message arrived within `timeoutMs` (DDS discovery takes a moment). */
  async firstMessage(timeoutMs: number): Promise<boolean> {
    if (this.received > 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.firstWaiter = null;
        resolve(false);
      }, timeoutMs);
      this.firstWaiter = () => {
        clearTimeout(timer);
        this.firstWaiter = null;
        resolve(true);
      };
    });
  }

  close(): void {
    this.node.destroy();
  }
}
