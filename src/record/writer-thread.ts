/**
 * The recording's writer thread: turns TickRecords into JSON messages, chunks them with
 * McapWriter, compresses chunks with zstd and appends them to the file, all off the tick's thread.
 */
import { spawnSync } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { McapWriter } from '@mcap/core';
import { linuxThreadId } from '../engine/thread-id.js';
import { type ChannelSpec, LogClock, METADATA_NAME, type RunDescription, tickMessages } from './channels.js';
import { compressChunk, FileWritable, zstdReady } from './mcap-file.js';
import type { TickRecord } from './tick-record.js';

export interface WriterSetup {
  path: string;
  description: RunDescription;
  channels: ChannelSpec[];
  /** Monotonic µs and Unix ms taken at the same moment (log times). */
  clockMonotonicUs: number;
  clockEpochMs: number;
  sceneEvery: number;
}

export type WriterRequest = { kind: 'ticks'; records: TickRecord[] } | { kind: 'close' };
export type WriterReply =
  | { kind: 'ready' }
  | { kind: 'written'; ticks: number }
  | { kind: 'closed'; bytes: number; messages: number }
  | { kind: 'error'; message: string };

const encoder = new TextEncoder();

/**
 * The writer must never take a core from the tick: it leaves a real-time scheduling class the
 * process may run in (`chrt -f 50 spikeloop run …`; threads inherit it, and a SCHED_FIFO writer
 * would hold a core until it blocks), then runs 10 nice levels below the loop. Linux applies both
 * per thread; where either is unavailable the writer runs as it is.
 */
function yieldToTheLoop(): void {
  try {
    const tid = linuxThreadId();
    if (tid > 0)
      spawnSync('chrt', ['--other', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
  } catch {
    // Not Linux, or no chrt: the thread keeps the process's scheduling class.
  }
  try {
    setPriority(Math.min(19, getPriority() + 10));
  } catch {
    // Lowering one's own priority is always allowed; if the platform refuses, run as is.
  }
}

async function main(): Promise<void> {
  yieldToTheLoop();
  const port = parentPort!;
  const setup = workerData as WriterSetup;
  let writer: McapWriter;
  let file: FileWritable;
  const channelIds = new Map<string, number>();
  const sequence = new Map<string, number>();
  let messages = 0;
  const clock = new LogClock(setup.clockMonotonicUs, setup.clockEpochMs);
  // Requests are handled strictly one after another: McapWriter needs each call to finish first.
  let queue = Promise.resolve();
  const fail = (error: unknown) => {
    port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  };
  try {
    await zstdReady();
    file = new FileWritable(setup.path);
    writer = new McapWriter({ writable: file, compressChunk, chunkSize: 1 << 20 });
    await writer.start({ profile: '', library: `spikeloop ${setup.description.spikeloopVersion}` });
    for (const channel of setup.channels) {
      const schemaId = await writer.registerSchema({
        name: channel.schemaName,
        encoding: 'jsonschema',
        data: encoder.encode(channel.schema),
      });
      const id = await writer.registerChannel({
        schemaId,
        topic: channel.topic,
        messageEncoding: 'json',
        metadata: new Map(),
      });
      channelIds.set(channel.topic, id);
      sequence.set(channel.topic, 0);
    }
    await writer.addMetadata({
      name: METADATA_NAME,
      metadata: new Map([['description', JSON.stringify(setup.description)]]),
    });
  } catch (error) {
    fail(error);
    return;
  }
  port.postMessage({ kind: 'ready' } satisfies WriterReply);
  port.on('message', (request: WriterRequest) => {
    queue = queue
      .then(async () => {
        if (request.kind === 'ticks') {
          for (const record of request.records) {
            for (const message of tickMessages(record, setup.description, clock, {
              sceneEvery: setup.sceneEvery,
            })) {
              const channelId = channelIds.get(message.topic);
              if (channelId === undefined) continue;
              const seq = sequence.get(message.topic)! + 1;
              sequence.set(message.topic, seq);
              await writer.addMessage({
                channelId,
                sequence: seq,
                logTime: message.logTimeNs,
                publishTime: message.logTimeNs,
                data: encoder.encode(JSON.stringify(message.data)),
              });
              messages++;
            }
          }
          port.postMessage({ kind: 'written', ticks: request.records.length } satisfies WriterReply);
        } else {
          await writer.end();
          const bytes = Number(file.position());
          file.close();
          port.postMessage({ kind: 'closed', bytes, messages } satisfies WriterReply);
        }
      })
      .catch(fail);
  });
}

void main();
