/** Worker thread of the CPU backend: builds and steps one partition until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { PartitionKernel } from './kernel.js';
import { CONTROL, type SharedBuffers, view } from './shared-state.js';

interface WorkerData {
  buffers: SharedBuffers;
  partition: number;
  stored: boolean;
}

const { buffers, partition, stored } = workerData as WorkerData;
const control = view(buffers, 'control');
try {
  const kernel = new PartitionKernel(buffers, partition, stored);
  parentPort!.postMessage({ ready: true, synapses: kernel.synapses, rowBytes: kernel.rowBytes });
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.command, seen);
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
  Atomics.notify(control, CONTROL.generation);
  parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
