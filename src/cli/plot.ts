/** `spikeloop plot FILE`: SVG figures of a recording (.mcap) or a spike file (src/record/plot.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { plotFigures } from '../record/plot.js';
import { loadPlotData } from '../record/plot-data.js';
import { printRows } from './output.js';

export function registerPlot(program: Command): Command {
  return program
    .command('plot')
    .description('SVG figures of a recording or spike file: raster, rates, ISI CV, trajectory, latency')
    .argument('<file>', 'a recording (run --record) or a spike file (simulate --record)')
    .option('--out <dir>', 'output directory (default: FILE-plots)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, options: { out?: string; json?: boolean }) => {
      const data = await loadPlotData(file);
      const out = options.out ?? `${file}-plots`;
      await mkdir(out, { recursive: true });
      const written: string[] = [];
      for (const [name, svg] of plotFigures(data)) {
        const path = join(out, name);
        await writeFile(path, svg);
        written.push(path);
      }
      printRows(
        [
          {
            file,
            out,
            figures: written.length,
            spikes: data.spikeIds.length,
            durationS: data.durationS,
            layout: data.layout !== null,
          },
        ],
        Boolean(options.json),
      );
      if (!options.json) for (const path of written) console.log(path);
    });
}
