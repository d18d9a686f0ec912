/**
 * `--realtime [PRIORITY]` and `--cpu N`: FIFO priority and a CPU affinity for the tick thread
 * alone, given by its Linux thread id to `chrt -p` and `taskset -p` (sched_setscheduler and
 * sched_setaffinity accept a thread id; no native addon needed). Never the whole process: at FIFO
 * priority the engine's helper threads, V8's helpers and the main thread (sockets, ROS 2, the
 * dashboard) would compete with the tick at equal priority on few cores and starve whatever the
 * tick waits for (docs/tick.md).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export const DEFAULT_REALTIME_PRIORITY = 50;

export interface RealtimeRequest {
  /** SCHED_FIFO priority, 1…99. */
  priority: number;
  /** Pin the tick thread to this CPU. */
  cpu?: number;
}

export interface RealtimeResult {
  /** The FIFO priority in effect, or null when it could not be set. */
  priority: number | null;
  /** The CPU the tick thread is pinned to, or null. */
  cpu: number | null;
  /** One line for the user when something was refused. */
  warnings: string[];
}

export function checkRealtimeRequest(request: RealtimeRequest): void {
  if (!Number.isInteger(request.priority) || request.priority < 1 || request.priority > 99) {
    throw new Error(`--realtime expects a FIFO priority from 1 to 99, got ${request.priority}`);
  }
  if (request.cpu !== undefined && (!Number.isInteger(request.cpu) || request.cpu < 0)) {
    throw new Error(`--cpu expects a CPU number ≥ 0, got ${request.cpu}`);
  }
}

function run(command: string, args: string[]): { ok: boolean; reason: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `${command} is not installed` : result.error.message };
  }
  if (result.status === 0) return { ok: true, reason: '' };
  const text = `${result.stderr ?? ''}`.trim().split('\n').pop() ?? '';
  // chrt/taskset say e.g. "chrt: failed to set pid 123's policy: Operation not permitted".
  const reason = text.includes(': ')
    ? text.slice(text.lastIndexOf(': ') + 2)
    : text || `exit ${result.status}`;
  return { ok: false, reason };
}

/**
 * Applies the request to thread `tid`; what cannot be applied is said in one line each and the
 * run goes on at the normal priority.
 */
export function applyRealtime(tid: number | null, request: RealtimeRequest): RealtimeResult {
  checkRealtimeRequest(request);
  const warnings: string[] = [];
  if (tid === null) {
    warnings.push(
      '--realtime: the tick thread has no Linux thread id here (/proc/thread-self is missing); running at normal priority',
    );
    return { priority: null, cpu: null, warnings };
  }
  let cpu: number | null = null;
  if (request.cpu !== undefined) {
    const pinned = run('taskset', ['-p', '-c', String(request.cpu), String(tid)]);
    if (pinned.ok) cpu = request.cpu;
    else
      warnings.push(
        `--cpu: could not pin the tick thread to CPU ${request.cpu} (${pinned.reason}); it runs on any CPU`,
      );
  }
  const fifo = run('chrt', ['-f', '-p', String(request.priority), String(tid)]);
  if (!fifo.ok) {
    const hint = /not permitted/i.test(fifo.reason) ? '; it needs root, CAP_SYS_NICE or an rtprio limit' : '';
    warnings.push(
      `--realtime: could not give the tick thread FIFO priority ${request.priority} (${fifo.reason}${hint}); running at normal priority`,
    );
    return { priority: null, cpu, warnings };
  }
  return { priority: request.priority, cpu, warnings };
}

export interface EngineRealtimeResult {
  /** The FIFO priority the engine's threads got, or null when none got it (or there are none). */
  priority: number | null;
  /** How many engine threads got it. */
  threads: number;
  /** The CPU list the engine's threads are kept on (with --cpu: every CPU but the tick's), or null. */
  cpus: string | null;
  warnings: string[];
}

/** The CPUs this process may run on (Cpus_allowed_list of /proc/self/status), or null where unknown. */
export function allowedCpus(): number[] | null {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (line === undefined) return null;
    const cpus: number[] = [];
    for (const part of line.split(',')) {
      const [from, to] = part.split('-').map(Number);
      for (let cpu = from!; cpu <= (to ?? from!); cpu++) cpus.push(cpu);
    }
    return cpus;
  } catch {
    return null;
  }
}

/**
 * The engine's own threads (the CPU backend's workers, `Engine.threadIds`) get the tick thread's
 * FIFO priority: the tick waits for them at the barrier of every time step, so a worker at normal
 * priority that the main thread, the load or another process preempts stalls the FIFO tick with it
 * (docs/tick.md). With `--cpu N` they are kept off the tick's CPU: two FIFO threads of equal
 * priority on one CPU run one after the other, so a worker there would only run while the tick
 * thread sleeps and the step's parallel half would become serial.
 */
export function applyRealtimeToEngine(
  tids: readonly number[],
  request: RealtimeRequest,
  tickCpu: number | null,
): EngineRealtimeResult {
  checkRealtimeRequest(request);
  const warnings: string[] = [];
  if (tids.length === 0) return { priority: null, threads: 0, cpus: null, warnings };
  let cpus: string | null = null;
  if (tickCpu !== null) {
    const others = (allowedCpus() ?? []).filter((cpu) => cpu !== tickCpu);
    if (others.length === 0) {
      warnings.push(
        `--cpu: CPU ${tickCpu} is the only one this process may use; the engine's worker threads share it with the tick thread`,
      );
    } else {
      const list = others.join(',');
      const failed = tids.map((tid) => run('taskset', ['-p', '-c', list, String(tid)])).find((r) => !r.ok);
      if (failed)
        warnings.push(
          `--cpu: could not keep the engine's worker threads off CPU ${tickCpu} (${failed.reason}); they run on any CPU`,
        );
      else cpus = list;
    }
  }
  // Measured (bench loop --mode load, N = 5000, --threads 2, 2 CPUs): with the tick thread and its
  // worker both FIFO, the engine no longer waits for a preempted worker (missed 24–31 % → 4–6 %),
  // but the two busy FIFO threads leave the main thread and the simulator a fraction of the CPUs
  // (sensor frames sent 710–800/s → 65–190/s). Say so where that is the case.
  const cpuCount = allowedCpus()?.length ?? 0;
  if (cpuCount > 0 && tids.length + 1 >= cpuCount) {
    warnings.push(
      `--realtime: the tick thread and ${tids.length} engine worker thread(s) at FIFO priority can occupy all ${cpuCount} CPUs; the main thread (sockets, ROS 2, the dashboard) and other processes get what they leave: prefer --threads ${Math.max(1, cpuCount - 1)} or fewer`,
    );
  }
  let threads = 0;
  let reason = '';
  for (const tid of tids) {
    const fifo = run('chrt', ['-f', '-p', String(request.priority), String(tid)]);
    if (fifo.ok) threads++;
    else reason ||= fifo.reason;
  }
  if (threads < tids.length) {
    const hint = /not permitted/i.test(reason) ? '; it needs root, CAP_SYS_NICE or an rtprio limit' : '';
    warnings.push(
      `--realtime: could not give ${tids.length - threads} of the engine's ${tids.length} worker thread(s) FIFO priority ${request.priority} (${reason}${hint}); the tick may wait for them at normal priority`,
    );
  }
  return { priority: threads > 0 ? request.priority : null, threads, cpus, warnings };
}

/** What the kernel counted for one thread of this process: where its tail comes from (docs/tick.md). */
export interface ThreadSchedStats {
  /** Time runnable but waiting for a CPU (run delay), ns. */
  runDelayNs: number;
  /** Time on a CPU, ns. */
  runNs: number;
  /** Times it was taken off the CPU while runnable (preempted). */
  preemptions: number;
  /** Page faults that had to wait for a read (a page the kernel had reclaimed: code, files). */
  majorFaults: number;
}

/** /proc/self/task/TID/schedstat and its status' nonvoluntary_ctxt_switches, or null where unreadable. */
export function threadSchedStats(tid: number): ThreadSchedStats | null {
  try {
    const [runNs, runDelayNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    const preemptions = Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? Number.NaN);
    // stat: "TID (comm) state ppid … minflt cminflt majflt …": majflt is the 10th field after the comm.
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const majorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[9]);
    if (![runNs, runDelayNs, preemptions, majorFaults].every(Number.isFinite)) return null;
    return { runDelayNs: runDelayNs!, runNs: runNs!, preemptions, majorFaults };
  } catch {
    return null;
  }
}

/**
 * `--tick-nice N`: a nice value for the tick thread and the engine's workers alone (setpriority
 * takes a thread id on Linux), so that at normal priority they win the CPU from the main thread,
 * the load and other processes more often without a real-time class. Measured (bench loop
 * --mode load, N = 5000, normal priority, two rounds): the tick thread's run delay 2.1 → 1.1 s and
 * 3.4 → 0.8 s per 15 s, preemptions 11,237 → 2,628 and 12,515 → 3,955, missed 650 → 623 and
 * 1,488 → 257. Returns the value in effect (null when refused) and one line when refused.
 */
export function applyTickNice(
  tids: readonly number[],
  nice: number,
): { nice: number | null; warnings: string[] } {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    throw new Error(`--tick-nice must be an integer from -20 to 19, got ${nice}`);
  }
  try {
    for (const tid of tids) setPriority(tid, nice);
    return { nice, warnings: [] };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const hint = code === 'EACCES' || code === 'EPERM' ? '; a negative value needs root or CAP_SYS_NICE' : '';
    return {
      nice: null,
      warnings: [
        `--tick-nice: could not give the tick thread nice ${nice} (${code}${hint}); running at the process's nice`,
      ],
    };
  }
}

/** A thread's timer slack (/proc/TID/timerslack_ns), ns, or null where unreadable. */
export function timerSlackNs(tid: number): number | null {
  try {
    const value = Number(readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8').trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** The scheduling policy and priority of a thread as chrt reports it (tests, diagnostics). */
export function schedulingOf(tid: number): { policy: string; priority: number } | null {
  const result = spawnSync('chrt', ['-p', String(tid)], { encoding: 'utf8', timeout: 5000 });
  if (result.status !== 0) return null;
  const policy = /policy: (\S+)/.exec(result.stdout)?.[1] ?? '';
  const priority = Number(/priority: (\d+)/.exec(result.stdout)?.[1] ?? Number.NaN);
  return { policy, priority };
}
