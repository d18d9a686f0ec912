/**
 * A recording of the `ws` environment: an external arena process (`spikeloop arena --connect`)
 * sends sensor and world frames; the recording keeps the samples the ticks took and the world
 * frames, and replays bit for bit from the recorded mapping.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import type { WsEnvironment } from '../../src/env/ws/environment.js';
import { TOPICS } from '../../src/record/channels.js';
import { readMcapRecords } from '../../src/record/mcap-file.js';
import { readRecording } from '../../src/record/reader.js';
import { replay } from '../../src/record/replay.js';
import { BIN } from '../cli/run-cli.js';
import { freePort } from '../loopback.js';

describe('recording the ws environment', () => {
  it('keeps sensor samples and world frames of an external arena and replays bit for bit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spikeloop-ws-record-')), 'ws.mcap');
    const port = await freePort();
    let arena: ReturnType<typeof spawn> | null = null;
    await runClosedLoop({
      env: 'ws',
      envSettings: { port },
      durationS: 2.5,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 5,
      latePolicy: 'skip',
      record: file,
      handleSignals: false,
      onStart: async (_loop, env) => {
        arena = spawn(
          process.execPath,
          [BIN, 'arena', '--connect', `ws://127.0.0.1:${port}`, '--duration', '60'],
          {
            stdio: 'ignore',
          },
        );
        // The loop starts once the simulator is connected and sending (its start-up takes seconds on a busy machine).
        const ws = env as WsEnvironment;
        for (let k = 0; k < 600 && ws.view.world() === null; k++) await new Promise((r) => setTimeout(r, 50));
        return async () => {
          arena?.kill('SIGTERM');
        };
      },
    });
    const read = await readRecording(file);
    expect(read.description.env).toBe('ws');
    expect(read.description.mapping).not.toBeNull();
    const taken = read.ticks.filter((tick) => tick.samples.size > 0).length;
    expect(taken).toBeGreaterThan(100);
    let worldFrames = 0;
    const worldTopics = new Set<number>();
    for await (const record of readMcapRecords(file)) {
      if (record.type === 'Channel' && record.topic === TOPICS.externalWorld) worldTopics.add(record.id);
      if (record.type === 'Message' && worldTopics.has(record.channelId)) {
        const data = JSON.parse(new TextDecoder().decode(record.data)) as { frame: { robot: number[] } };
        expect(data.frame.robot).toHaveLength(3);
        worldFrames++;
      }
    }
    expect(worldFrames).toBeGreaterThan(5);
    const result = await replay(file, { backend: 'cpu' });
    expect(result).toMatchObject({ identical: true, ticks: read.ticks.length, firstDivergence: null });
  });
});
