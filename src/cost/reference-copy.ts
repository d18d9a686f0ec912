/**
 * One copy of the parallel reference (parallel-reference.ts), run as its own process: builds the
 * one-thread CPU engine, warms it up, says "ready", measures when told "go" on stdin, and prints
 * its RT as one JSON line. Stdin closing before "go" (the parent died) ends it.
 */
import { createInterface } from 'node:readline';
import { measureCost } from './cost.js';
import type { CopyRequest } from './parallel-reference.js';

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as CopyRequest;
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => {
    lines.once('line', () => resolve());
    lines.once('close', () => {
      process.stderr.write('reference copy: stdin closed before "go"\n');
      process.exit(1);
    });
  });
  const measurement = await measureCost('cpu', request.n, {
    ...request,
    threads: 1,
    beforeMeasure: async () => {
      process.stdout.write('ready\n');
      await go;
    },
  });
  lines.removeAllListeners('close');
  lines.close();
  process.stdout.write(`${JSON.stringify({ rtf: measurement.rtf })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`reference copy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
