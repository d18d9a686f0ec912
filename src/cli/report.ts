/**
 * `spikeloop report DIR`: re-renders a saved latency report (report.txt, .hgrm files, report.html)
 * from the histograms stored in DIR/report.json, prints it, and with --strict checks budgets again.
 */
import type { Command } from 'commander';
import { parseBudgets } from '../telemetry/budget.js';
import { readReport, recheckBudgets, writeReport } from '../telemetry/report.js';
import { renderText } from '../telemetry/report-text.js';

export function registerReport(program: Command): Command {
  return program
    .command('report')
    .argument('<dir>', 'a report directory written by `spikeloop run --report DIR`')
    .description('render a saved latency report (text, JSON, .hgrm, HTML) and optionally check budgets')
    .option('--strict <budgets>', "deadline budgets, e.g. 'p99<=1ms,p999<=2ms'; exit 1 when one is violated")
    .option('--json', 'print the report JSON (without the encoded histograms)')
    .action(async (dir: string, options: { strict?: string; json?: boolean }) => {
      const budgets = options.strict !== undefined ? parseBudgets(options.strict) : null;
      const loaded = await readReport(dir);
      // report.json is the run's record (its own budget verdict included) and is never rewritten.
      // Without --strict the files rendered from it are renewed; a --strict check is printed
      // only, so checking other budgets cannot replace what the run was held to.
      if (budgets === null) await writeReport(dir, loaded, { keepJson: true });
      const report = budgets === null ? loaded.report : recheckBudgets(loaded, budgets);
      if (options.json) {
        const strip = <T extends { encoded: string }>({ encoded: _encoded, ...rest }: T) => rest;
        const histograms = Object.fromEntries(
          Object.entries(report.histograms).map(([k, h]) => [k, strip(h)]),
        );
        const e2eByInput = Object.fromEntries(
          Object.entries(report.e2eByInput).map(([k, h]) => [k, strip(h)]),
        );
        process.stdout.write(`${JSON.stringify({ ...report, histograms, e2eByInput })}\n`);
      } else {
        process.stdout.write(`${renderText(report)}\n`);
      }
      for (const budget of report.budgets) {
        if (!budget.ok) console.error(`spikeloop: budget violated: ${budget.message}`);
      }
      if (report.budgets.some((budget) => !budget.ok)) process.exitCode = 1;
    });
}
