#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MiB young generation makes scavenges (1–3 ms pauses that cost real-time ticks) rarer: the
// loop allocates a few KB per 1 ms tick, so they come every ~15 s instead of every ~3 s.
// The package's bin: the compiled CLI lives in dist/ (built by `npm run build`, run on install).
//
// Dawn (the WebGPU backend) prints its adapter probing to stderr from native code ("Warning:
// Couldn't load Vulkan", "... artificially reduced ..."), where JavaScript cannot intercept it.
// When a command may load Dawn, the CLI therefore runs in a child process whose stderr passes
// through here: Dawn's "Warning:" lines are held back and shown only if the command fails, or
// always with --verbose (or SPIKELOOP_VERBOSE=1). Everything else is passed on as it comes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

process.env.EGL_PLATFORM ??= 'surfaceless';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || process.env.SPIKELOOP_VERBOSE === '1';
if (args.includes('--verbose')) {
  // Not a command option: every command accepts it here.
  args.splice(args.indexOf('--verbose'), 1);
  process.env.SPIKELOOP_VERBOSE = '1';
}

/** Whether the command may create a WebGPU instance (and so print Dawn's probing). */
async function mayLoadDawn() {
  if (verbose || process.env.SPIKELOOP_STDERR_FILTERED === '1') return false;
  const command = args.find((arg) => !arg.startsWith('-'));
  if (!['run', 'simulate', 'sweep', 'calibrate-params', 'calibrate', 'bench'].includes(command ?? ''))
    return false;
  if (args.includes('--help') || args.includes('-h')) return false;
  const at = args.indexOf('--backend');
  const backend = at >= 0 ? args[at + 1] : args.find((arg) => arg.startsWith('--backend='))?.slice(10);
  if (backend === 'cpu') return false;
  if (backend === undefined && (command === 'run' || command === 'simulate')) {
    // `auto` loads Dawn only where a GPU device node exists (src/engine/gpu-devices.ts).
    const { gpuDeviceNodesPresent } = await import('../dist/engine/gpu-devices.js');
    return gpuDeviceNodesPresent();
  }
  return true;
}

if (!(await mayLoadDawn())) {
  process.argv.splice(2, process.argv.length - 2, ...args);
  await import('../dist/cli/main.js');
} else {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    // fd 3: a pipe the child only watches; the kernel closes it when this process dies, however.
    stdio: ['inherit', 'inherit', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches this process only, which passes it on
    // once (two SIGINTs would cut the report short).
    detached: true,
    env: {
      ...process.env,
      SPIKELOOP_STDERR_FILTERED: '1',
      SPIKELOOP_PARENT_FD: '3',
      ...(process.stderr.isTTY ? { SPIKELOOP_STDERR_TTY: '1' } : {}),
    },
  });
  const held = [];
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      if (line.startsWith('Warning: ')) held.push(line);
      else out += `${line}\n`;
    }
    // A partial line that cannot become a Dawn line (a progress bar redrawn with \r) goes out now.
    if (
      pending.length > 0 &&
      !'Warning: '.startsWith(pending.slice(0, 9)) &&
      !pending.startsWith('Warning: ')
    ) {
      out += pending;
      pending = '';
    }
    if (out) process.stderr.write(out);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
  if (pending) process.stderr.write(pending);
  if ((code !== 0 || signal !== null) && held.length > 0) {
    process.stderr.write(
      `spikeloop: WebGPU (Dawn) said while probing adapters:\n${held.map((line) => `  ${line}`).join('\n')}\n`,
    );
  }
  process.exitCode = code ?? 128 + ({ SIGINT: 2, SIGHUP: 1, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 1);
}
