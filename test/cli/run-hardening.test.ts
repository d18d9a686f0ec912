/**
 * `spikeloop run` against hostile and careless use (issue 11): the token on the ws port, ports in
 * use, the saved report left alone by `report --strict`, a report folder that cannot be written
 * (found before the run; a disk filled during the run costs the report, never the summary),
 * repeated Ctrl-C, exit codes 130/143, npm/npx parents that go away, mappings that do not fit,
 * and out-of-range options. Real processes, real signals, real files (tmpfs mounts where root may
 * mount them).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greetedPeer, hello, rawPeer } from '../io/ws/helpers.js';
import { ROOT, runSourceCli, sleep, startCli, startProcess } from './live-cli.js';

const base = ['run', '--env', 'synthetic', '--n', '100', '--backend', 'cpu', '--warmup', '0'];

const spikeloop = runSourceCli;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spikeloop-hardening-'));
});

const mounts: string[] = [];
afterAll(() => {
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
});

/** A fresh tmpfs (root in a container may mount one); null where mounting is not allowed. */
function tmpfs(name: string, options: string): string | null {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  mounts.push(path);
  return path;
}
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'spikeloop-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

async function occupiedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  return {
    port: (blocker.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => blocker.close(() => resolve())),
  };
}

describe('--token protects the ws port too (item 1)', () => {
  it('refuses simulators without the token, with nil, empty or wrong ones; beyond loopback --token suffices', async () => {
    const run = startCli([
      'run',
      '--env',
      'ws',
      '--env-set',
      'port=0',
      '--env-set',
      'host=0.0.0.0',
      '--token',
      'SECRET',
      '--n',
      '100',
      '--backend',
      'cpu',
      '--warmup',
      '0',
      '--no-report',
      '--json',
    ]);
    try {
      const [, port] = await run.waitForStderr(/simulators connect to ws:\/\/0\.0\.0\.0:(\d+)/);
      const url = `ws://127.0.0.1:${port}`;
      for (const token of [undefined, null, '', 'WRONG', 'SECRET!']) {
        const peer = await rawPeer(url);
        const message = hello({ sensors: [], motors: [] });
        if (token === undefined) delete message.token;
        else message.token = token;
        peer.send(message);
        const error = await peer.next((m) => m.t === 'error');
        expect(error, String(token)).toMatchObject({ code: 'unauthorized', fatal: true });
        expect((await peer.closed).code).toBe(4001);
      }
      const good = await greetedPeer(url, { token: 'SECRET', sensors: [], motors: [] });
      good.socket.close();
      await run.waitForStderr(/running until SIGINT/);
    } finally {
      run.child.kill('SIGTERM');
    }
    const { code, stdout } = await run.done;
    expect(code).toBe(143);
    expect(JSON.parse(stdout)).toMatchObject({ env: 'ws', stopReason: 'SIGTERM' });
  });

  it('refuses a non-loopback bind without a token, and an empty token', () => {
    const bare = spikeloop([
      ...base,
      '--env',
      'ws',
      '--env-set',
      'host=0.0.0.0',
      '--env-set',
      'port=0',
      '--no-report',
    ]);
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(
      /binding to 0\.0\.0\.0 .* a token is required \(--token or SPIKELOOP_TOKEN\)/,
    );
    const empty = spikeloop([...base, '--env', 'ws', '--env-set', 'port=0', '--token', '', '--no-report']);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/the access token must not be empty/);
  });

  it('refuses a --spin-us of a whole tick or more, and --spin-us without the tick thread, naming the option', () => {
    const long = spikeloop([...base, '--spin-us', '1000', '--no-report']);
    expect(long.status).toBe(1);
    expect(long.stderr).toMatch(
      /--spin-us must be an integer from 0 to below the tick \(1000 µs\), got 1000/,
    );
    const off = spikeloop([...base, '--spin-us', '100', '--tick-thread', 'off', '--no-report']);
    expect(off.status).toBe(1);
    expect(off.stderr).toMatch(/--spin-us applies to the tick thread/);
  });

  it("reports the tick thread's busy wait in the summary: 80 µs by default, --spin-us when given", () => {
    const summaryOf = (extra: string[]) => {
      const result = spikeloop([...base, '--duration', '0.2', '--no-report', '--json', ...extra]);
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { tickSpinUs?: number };
    };
    expect(summaryOf([]).tickSpinUs).toBe(80);
    expect(summaryOf(['--spin-us', '250']).tickSpinUs).toBe(250);
  });
});

describe('a port in use is one line, exit 1 (item 4)', () => {
  it.each([
    ['the ws port', (port: number) => ['--env', 'ws', '--env-set', `port=${port}`], '--env-set port=N'],
    ['the dashboard port', (port: number) => ['--dashboard', String(port)], '--dashboard PORT'],
  ])('%s', async (_what, args, hint) => {
    const blocker = await occupiedPort();
    try {
      const result = spikeloop([...base, ...args(blocker.port), '--duration', '1', '--no-report']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `spikeloop: cannot listen on 127.0.0.1:${blocker.port}: the port is in use by another process (EADDRINUSE); choose another with ${hint}`,
      );
      expect(result.stderr).not.toMatch(/Emitted 'error'|\n\s+at /);
    } finally {
      await blocker.close();
    }
  });
});

describe('reports (items 6 and 7)', () => {
  it('report --strict checks other budgets without rewriting the saved report.json or report.html', () => {
    const out = join(dir, 'saved');
    const run = spikeloop([...base, '--duration', '1', '--report', out, '--strict', 'max<=10s']);
    expect(run.status).toBe(0);
    const json = readFileSync(join(out, 'report.json'));
    const html = readFileSync(join(out, 'report.html'));
    // A tick computes for microseconds at least; the tick thread now wakes within 0-1 µs of its
    // deadlines, so a lateness budget no longer makes a sure violation.
    const strict = spikeloop(['report', out, '--strict', 'compute.p50<=0us']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/budget violated: compute p50/);
    expect(readFileSync(join(out, 'report.json')).equals(json)).toBe(true);
    expect(readFileSync(join(out, 'report.html')).equals(html)).toBe(true);
    const plain = spikeloop(['report', out]);
    expect(plain.status).toBe(0);
    expect(readFileSync(join(out, 'report.json')).equals(json)).toBe(true);
    expect(JSON.parse(json.toString()).budgets).toEqual([
      expect.objectContaining({ budget: 'max<=10s', ok: true }),
    ]);
  });

  it('a file in the way is found before the run, naming the path', () => {
    const file = join(dir, 'in-the-way');
    writeFileSync(file, 'x');
    const atFile = spikeloop([...base, '--duration', '30', '--report', file]);
    expect(atFile.status).toBe(1);
    expect(atFile.stderr).toContain(
      `spikeloop: cannot create the report directory ${file}: a file is in the way (EEXIST)`,
    );
    expect(atFile.stdout).toBe('');
    const below = spikeloop([...base, '--duration', '30', '--report', join(file, 'sub')]);
    expect(below.status).toBe(1);
    expect(below.stderr).toContain(
      `${join(file, 'sub')}: a part of the path is a file, not a directory (ENOTDIR)`,
    );
  });

  it.skipIf(!canMount)('a read-only folder and a nearly full disk are found before the run', () => {
    const readOnly = tmpfs('ro', 'ro,size=1m')!;
    const ro = spikeloop([...base, '--duration', '30', '--report', readOnly]);
    expect(ro.status).toBe(1);
    expect(ro.stderr).toContain(`cannot write the report into ${readOnly}: read-only file system (EROFS)`);
    const tiny = tmpfs('tiny', 'size=64k')!;
    const full = spikeloop([...base, '--duration', '30', '--report', join(tiny, 'r')]);
    expect(full.status).toBe(1);
    expect(full.stderr).toMatch(
      /cannot write the report into .*\/tiny\/r: only \d+ KiB free on its file system/,
    );
  });

  it.skipIf(!canMount)(
    'a disk filled during the run costs the report, not the summary; no empty files remain',
    async () => {
      const disk = tmpfs('fills', 'size=2m')!;
      const out = join(disk, 'report');
      const run = startCli([...base, '--duration', '6', '--report', out, '--json']);
      const deadline = Date.now() + 60_000;
      while (!existsSync(out) && Date.now() < deadline) await sleep(10);
      await sleep(1500);
      // Fill the file system to the last byte while the loop runs.
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=64k'], { encoding: 'utf8' });
      const { code, stdout, stderr } = await run.done;
      expect(code).toBe(1);
      const summary = JSON.parse(stdout);
      expect(summary.ticks).toBeGreaterThan(0);
      expect(summary.reportError).toMatch(/report\.json: no space left on device \(ENOSPC\)/);
      expect(summary.report).toBeUndefined();
      expect(stderr).toContain(
        `spikeloop: the report was not written: cannot write ${join(out, 'report.json')}: no space left on device (ENOSPC)`,
      );
      for (const name of readdirSync(out)) {
        expect(name).not.toMatch(/\.tmp-/);
        expect(statSync(join(out, name)).size).toBeGreaterThan(0);
      }
    },
  );
});

describe('signals (item 8, exit codes)', () => {
  it('Ctrl-C three times within 60 ms: the report and the summary are complete, exit 130', async () => {
    const out = join(dir, 'ctrl-c');
    const run = startCli([...base, '--report', out, '--json']);
    await run.waitForStderr(/running until SIGINT/);
    await sleep(500);
    run.child.kill('SIGINT');
    await sleep(20);
    run.child.kill('SIGINT');
    await sleep(40);
    run.child.kill('SIGINT');
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(130);
    expect(JSON.parse(stdout)).toMatchObject({ stopReason: 'SIGINT', report: out });
    expect(stderr).toMatch(/already stopping after SIGINT: finishing the report and summary/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).run.stopReason).toBe('SIGINT');
  });

  it('SIGTERM: exit 143 with the summary', async () => {
    const run = startCli([...base, '--no-report', '--json']);
    await run.waitForStderr(/running until SIGINT/);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.done;
    expect(code).toBe(143);
    expect(JSON.parse(stdout).stopReason).toBe('SIGTERM');
  });
});

describe('under npm and npx (item 9)', () => {
  /** A project that installed spikeloop: its bin linked into node_modules/.bin (needs dist/, built by npm test). */
  function project(): string {
    const root = mkdtempSync(join(tmpdir(), 'spikeloop-npm-project-'));
    mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(ROOT, 'bin', 'spikeloop.js'), join(root, 'node_modules', '.bin', 'spikeloop'));
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({
        name: 'user-project',
        version: '1.0.0',
        private: true,
        scripts: { loop: `spikeloop ${base.join(' ')} --report out` },
      }),
    );
    return root;
  }

  /** True once no process of the group led by `pid` is left. */
  const groupGone = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return false;
    } catch {
      return true;
    }
  };

  it.each([
    ['npx, sent SIGTERM', ['npx', 'spikeloop', ...base, '--report', 'out'], 'SIGTERM'],
    ['npx, killed with SIGKILL', ['npx', 'spikeloop', ...base, '--report', 'out'], 'SIGKILL'],
    ['npm run, sent SIGTERM', ['npm', 'run', 'loop'], 'SIGTERM'],
  ] as const)(
    '%s: spikeloop stops, writes its report and leaves no process behind',
    async (_what, command, signal) => {
      const cwd = project();
      const run = startProcess(command[0], command.slice(1), {
        cwd,
        detached: true,
        env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
      });
      const pid = run.child.pid!;
      try {
        await run.waitForStderr(/running until SIGINT/);
        process.kill(pid, signal);
        const deadline = Date.now() + 30_000;
        while (!groupGone(pid) && Date.now() < deadline) await sleep(50);
        expect(groupGone(pid)).toBe(true);
        const report = JSON.parse(readFileSync(join(cwd, 'out', 'report.json'), 'utf8'));
        expect(report.run.stopReason).toBe('SIGTERM');
        expect(run.stderr()).toMatch(
          /the npm\/npx process that started spikeloop has exited; stopping as on SIGTERM/,
        );
      } finally {
        if (!groupGone(pid)) process.kill(-pid, 'SIGKILL');
      }
    },
  );
});

describe('careless input is refused before anything runs (items 10 and 11)', () => {
  it('a mapping whose input size does not fit the arena (the README example before it was fixed)', () => {
    const mapping = join(dir, 'mapping.yaml');
    writeFileSync(
      mapping,
      [
        'version: 1',
        'encoders:',
        '  - { kind: linear, input: ranges, size: 2, populations: [E0, E2], weightsPa: [[4, 0], [0, 4]], offset: 1 }',
        'decoders:',
        '  - { kind: rate, output: cmd_vel, tauMs: 50, groups: [[E0], [E1]] }',
        '',
      ].join('\n'),
    );
    const result = spikeloop([
      'run',
      '--env',
      'arena',
      '--env-set',
      `mapping=${mapping}`,
      '--n',
      '100',
      '--backend',
      'cpu',
      '--duration',
      '30',
      '--no-report',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /the mapping reads 2 value\(s\) from input "ranges", but that source gives 7 per sample/,
    );
    expect(result.stdout).toBe('');
  });

  it.each([
    [['--tick-ms', '0'], /--tick-ms must be a number > 0 and ≤ 1000 ms, got "0"/],
    [['--duration', '1e308'], /--duration must be a number > 0 and ≤ 31536000 s, got "1e308"/],
    [['--warmup', '-1'], /--warmup must be a number ≥ 0 and ≤ 100000 s, got "-1"/],
    [['--env-set', 'bogus=1'], /synthetic environment: unknown setting "bogus"; expected pattern, channels/],
  ])('run %j', (args, message) => {
    const result = spikeloop([...base, '--no-report', '--duration', '30', ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('a hardware profile with a negative fit coefficient', () => {
    const profile = JSON.parse(
      readFileSync(join(ROOT, 'hardware-profiles/intel-xeon-processor-2c.json'), 'utf8'),
    );
    profile.backends[0].fit.a1 = -1e-5;
    const path = join(dir, 'negative.json');
    writeFileSync(path, JSON.stringify(profile));
    const result = spikeloop([...base, '--no-report', '--duration', '30', '--profile', path]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/negative\.json: backends\[0\]\.fit\.a1: must be ≥ 0, got -/);
  });
});
