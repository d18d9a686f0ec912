/** Worker thread of the CPU backend: builds and steps one partition until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import type { CpuWaitMode } from '../engine.js';
import { linuxThreadId } from '../thread-id.js';
import { PartitionStepper } from './partition-stepper.js';
import { CONTROL, type SharedBuffers, view } from './shared-state.js';

interface WorkerData {
  buffers: SharedBuffers;
  partition: number;
  stored: boolean;
  waitMode: CpuWaitMode;
}

const { buffers, partition, stored, waitMode } = workerData as WorkerData;
const control = view(buffers, 'control');

/**
 * A real-time loop sends a command every tick (1 ms): a worker that went to sleep between them
 * would pay the OS wake-up latency on every tick (measured: compute p99 1.6 ms instead of 0.35 ms
 * at N = 5000). So it polls for this long after each command before sleeping, unless told to
 * block (EngineOptions.waitMode): then it leaves the core to the caller's real-time thread.
 */
const POLL_BEFORE_SLEEP_MS = waitMode === 'block' ? 0 : 3;

function waitForCommand(seen: number): void {
  const until = performance.now() + POLL_BEFORE_SLEEP_MS;
  for (let spin = 0; ; spin++) {
    if (Atomics.load(control, CONTROL.command) !== seen) return;
    if ((spin & 1023) === 0 && performance.now() > until) break;
  }
  Atomics.wait(control, CONTROL.command, seen);
}

try {
  const kernel = new PartitionStepper(buffers, partition, stored, waitMode);
  parentPort!.postMessage({
    ready: true,
    synapses: kernel.synapses,
    rowBytes: kernel.rowBytes,
    tid: linuxThreadId(),
  });
  let seen = 0;
  for (;;) {
    waitForCommand(seen);
    seen = Atomics.load(control, CONTROL.command);
    if (Atomics.load(control, CONTROL.shutdown) !== 0) break;
    const substeps = Atomics.load(control, CONTROL.substeps);
    const startStep = Atomics.load(control, CONTROL.startStep);
    kernel.prepareDrive();
    for (let s = 0; s < substeps; s++) {
      kernel.step(startStep + s);
      kernel.barrier();
    }
  }
} catch (error) {
  Atomics.store(control, CONTROL.failed, 1);
  Atomics.notify(control, CONTROL.barrier);
  parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
