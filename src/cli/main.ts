/**
 * `spikeloop`: the command line (docs/architecture.md). Each command lives in its own module and registers
 * itself on the program; this file only assembles them.
 */
import { Socket } from 'node:net';
import { Command, CommanderError } from 'commander';
import { splitRosArgs } from '../io/ros2/ros-args.js';
import { registerArena } from './arena.js';
import { registerBench } from './bench.js';
import { registerBenchBatch } from './bench-batch.js';
import { registerBenchEngine } from './bench-engine.js';
import { registerBenchIo } from './bench-io.js';
import { registerBenchLoop } from './bench-loop.js';
import { registerBenchRos2 } from './bench-ros2.js';
import { registerCalibrate } from './calibrate.js';
import { registerCalibrateParams } from './calibrate-params.js';
import { registerLoadClient } from './load-client.js';
import { registerPlot } from './plot.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { installSignalHandling, signalExitCode, stopSignal } from './signals.js';
import { registerSimulate } from './simulate.js';
import { registerSweep } from './sweep.js';

const program = new Command();
program
  .name('spikeloop')
  .description('Real-time closed loop between a spiking attractor network (WebGPU/CPU) and a robot')
  .version('0.1.0')
  .addHelpText(
    'after',
    '\n--verbose (any command) shows what WebGPU (Dawn) prints while probing adapters; otherwise only a failed command shows it.',
  )
  .showHelpAfterError()
  .exitOverride();

registerSimulate(program);
registerRun(program);
registerReport(program);
registerReplay(program);
registerPlot(program);
registerSweep(program);
registerCalibrateParams(program);
registerCalibrate(program);
registerArena(program);
registerLoadClient(program);
const bench = registerBench(program);
registerBenchEngine(bench);
registerBenchBatch(bench);
// Benchmarks register on `bench` from their own modules, e.g. registerBenchEngine(bench).
registerBenchLoop(bench);
registerBenchIo(bench);
registerBenchRos2(bench);

// One owner of SIGINT/SIGTERM for every command (exit 130/143; npm/npx parents watched).
installSignalHandling();
// Run by bin/spikeloop.js as a child that filters Dawn's stderr: if that parent disappears without
// passing a signal on (SIGKILL), the pipe it holds open ends, and this process stops as on SIGTERM
// rather than run on unobserved.
// The variable is this process's alone: processes it starts (bench io's arena) do not hold the pipe.
const parentFd = Number(process.env.SPIKELOOP_PARENT_FD);
delete process.env.SPIKELOOP_PARENT_FD;
if (Number.isInteger(parentFd) && parentFd > 2) {
  try {
    const parent = new Socket({ fd: parentFd, readable: true, writable: false });
    const stop = () => process.kill(process.pid, 'SIGTERM');
    parent.once('end', stop);
    parent.once('error', stop);
    parent.resume();
    parent.unref();
  } catch (error) {
    console.error(`spikeloop: cannot watch the parent process (${String(error)}); continuing`);
  }
}

try {
  // ROS 2 arguments (`--ros-args -r from:=to …`) are rcl's, read by the ROS 2 bridge, not options.
  await program.parseAsync(splitRosArgs(process.argv).args);
  // Stopped by a signal, with the report and summary out: exit now. Left to drain, the process
  // would spend its last ~20 ms tearing down with the signal handlers already reset by Node, and a
  // repeated Ctrl-C landing there would end it by the signal instead of with exit status 130/143.
  const signal = stopSignal();
  if (signal !== null) process.exit(signalExitCode(signal));
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(`spikeloop: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
