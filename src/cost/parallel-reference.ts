/**
 * The machine's own reference for parallel scaling, measured in the same run as the engine: the
 * one-thread CPU engine at the same N in one process alone, then in `copies` processes at once.
 * Independent copies share nothing but the machine (cores, caches, memory bandwidth, and on a VM
 * whatever the host gives its vCPUs), so each copy's slowdown against running alone says what
 * `copies` threads can give here at all for this very workload; a multi-threaded engine is then
 * judged against that ideal rather than against perfect scaling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelName } from '../model/params.js';

export interface ParallelReference {
  n: number;
  /** Copies run at once (the thread count the reference stands for). */
  copies: number;
  /** RT of the one-thread engine running alone. */
  rtfAlone: number;
  /** RT of each one-thread copy while `copies` ran at once. */
  rtfTogether: number[];
  /** Each copy's slowdown against running alone: rtfTogether / rtfAlone. */
  slowdowns: number[];
  /** Mean over the copies of rtfAlone / rtfTogether: 1 when every copy runs as fast as alone. */
  efficiency: number;
  /** RT a `copies`-thread engine would reach if it scaled as the copies do: rtfAlone / (copies·efficiency). */
  idealRtf: number;
}

export interface ReferenceOptions {
  model: ModelName;
  durationS: number;
  warmupS: number;
  stepsPerCall: number;
  seed: number;
  copies: number;
  /** Timed windows per copy; each copy reports its median (CostOptions.repeats). */
  repeats?: number;
}

/** What a copy is asked to measure (JSON in argv[2] of reference-copy). */
export interface CopyRequest {
  n: number;
  model: ModelName;
  durationS: number;
  warmupS: number;
  stepsPerCall: number;
  seed: number;
  repeats: number;
}

export async function measureParallelReference(
  n: number,
  options: ReferenceOptions,
): Promise<ParallelReference> {
  if (!Number.isInteger(options.copies) || options.copies < 2) {
    throw new Error(`the parallel reference needs at least 2 copies, got ${options.copies}`);
  }
  const request: CopyRequest = {
    n,
    model: options.model,
    durationS: options.durationS,
    warmupS: options.warmupS,
    stepsPerCall: options.stepsPerCall,
    seed: options.seed,
    repeats: options.repeats ?? 1,
  };
  const [rtfAlone] = await runCopies(request, 1);
  const rtfTogether = await runCopies(request, options.copies);
  const efficiency = rtfTogether.reduce((sum, rtf) => sum + rtfAlone! / rtf, 0) / rtfTogether.length;
  return {
    n,
    copies: options.copies,
    rtfAlone: rtfAlone!,
    rtfTogether,
    slowdowns: rtfTogether.map((rtf) => rtf / rtfAlone!),
    efficiency,
    idealRtf: rtfAlone! / (options.copies * efficiency),
  };
}

/** The copy's entry; under vitest or tsx the sources run as .ts and need tsx's loader. */
function copyCommand(request: CopyRequest): string[] {
  const url = new URL(
    import.meta.url.endsWith('.ts') ? './reference-copy.ts' : './reference-copy.js',
    import.meta.url,
  );
  const loader = url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return [...loader, fileURLToPath(url), JSON.stringify(request)];
}

/**
 * Starts `count` copies, waits until every one has built its engine and warmed up, then lets
 * them all measure at once; resolves with each copy's RT.
 */
async function runCopies(request: CopyRequest, count: number): Promise<number[]> {
  const children: ChildProcess[] = [];
  const watched: { ready: Promise<void>; result: Promise<number> }[] = [];
  const root = fileURLToPath(new URL('../..', import.meta.url));
  try {
    for (let k = 0; k < count; k++) {
      const child = spawn(process.execPath, copyCommand(request), {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      watched.push(watchCopy(child));
    }
    await Promise.all(watched.map((w) => w.ready));
    for (const child of children) child.stdin!.write('go\n');
    return await Promise.all(watched.map((w) => w.result));
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** The copy's two lines on stdout: "ready", then its result as JSON ({ rtf }). */
function watchCopy(child: ChildProcess): { ready: Promise<void>; result: Promise<number> } {
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const failed = (code: number | null) =>
    new Error(
      `parallel reference copy exited with ${code ?? 'a signal'} before reporting: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  const result = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) onReady();
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n');
      const last = lines.at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) {
        resolve((JSON.parse(last) as { rtf: number }).rtf);
      } else {
        reject(failed(code));
      }
    });
  });
  // Copies killed after another failed reject too; the first failure is the one reported.
  result.catch(() => {});
  // A copy that fails before it is ready must not leave the others waiting for it.
  return { ready: Promise.race([ready, result.then(() => undefined)]), result };
}
