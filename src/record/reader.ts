/** Reads a spikeloop recording back: the run description and every tick's data. */
import { METADATA_NAME, motorTopic, type RunDescription, sensorTopic, TOPICS } from './channels.js';
import { readMcapRecords } from './mcap-file.js';
import type { RecordedWorld } from './tick-record.js';

export interface RecordedTick {
  tick: number;
  slot: number;
  firstStep: number;
  startUs: number;
  latenessUs: number;
  computeUs: number;
  used: Record<string, number>;
  /** Samples taken in this tick, by input. */
  samples: Map<string, { seq: number; arrivalUs: number; values: Float32Array }>;
  counts: number[];
  spikeSteps: number[];
  spikeIds: number[];
  /** Commands written in this tick, by output (null: the decoder failed). */
  commands: Map<string, Float32Array | null>;
  /** What the stale-input policy did per output (empty in recordings made before it was recorded). */
  actions: Map<string, 'command' | 'stop' | 'hold' | null>;
  world: RecordedWorld | null;
}

export interface Recording {
  path: string;
  description: RunDescription;
  /** Input and output names, from the recording's sensor and motor channels. */
  inputs: string[];
  outputs: string[];
  ticks: RecordedTick[];
}

const decoder = new TextDecoder();

function sampleValue(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

export async function readRecording(path: string): Promise<Recording> {
  let description: RunDescription | null = null;
  const topics = new Map<number, string>();
  const ticks: RecordedTick[] = [];
  const sensorPrefix = sensorTopic('');
  const motorPrefix = motorTopic('');
  const tickOf = (index: number, topic: string): RecordedTick => {
    const last = ticks[ticks.length - 1];
    if (last && last.tick === index) return last;
    throw new Error(`${path}: message on ${topic} for tick ${index} outside its tick (corrupt recording)`);
  };
  for await (const record of readMcapRecords(path)) {
    if (record.type === 'Metadata' && record.name === METADATA_NAME) {
      const text = record.metadata.get('description');
      if (text) description = JSON.parse(text) as RunDescription;
    } else if (record.type === 'Channel') {
      topics.set(record.id, record.topic);
    } else if (record.type === 'Message') {
      const topic = topics.get(record.channelId);
      if (!topic) continue;
      const data = JSON.parse(decoder.decode(record.data)) as Record<string, unknown> & { tick: number };
      if (topic === TOPICS.tick) {
        ticks.push({
          tick: data.tick,
          slot: data.slot as number,
          firstStep: data.firstStep as number,
          startUs: data.startUs as number,
          latenessUs: data.latenessUs as number,
          computeUs: data.computeUs as number,
          used: data.used as Record<string, number>,
          samples: new Map(),
          counts: [],
          spikeSteps: [],
          spikeIds: [],
          commands: new Map(),
          actions: new Map(),
          world: null,
        });
      } else if (topic === TOPICS.counts) {
        tickOf(data.tick, topic).counts = data.counts as number[];
      } else if (topic === TOPICS.spikes) {
        const tick = tickOf(data.tick, topic);
        tick.spikeSteps = data.steps as number[];
        tick.spikeIds = data.ids as number[];
      } else if (topic === TOPICS.world) {
        const { tick: index, ...world } = data;
        tickOf(index, topic).world = world as unknown as RecordedWorld;
      } else if (topic.startsWith(sensorPrefix)) {
        const values = Float32Array.from((data.values as (number | string)[]).map(sampleValue));
        tickOf(data.tick, topic).samples.set(topic.slice(sensorPrefix.length), {
          seq: data.seq as number,
          arrivalUs: data.arrivalUs as number,
          values,
        });
      } else if (topic.startsWith(motorPrefix)) {
        const values = data.ok ? Float32Array.from(data.values as number[]) : null;
        const tick = tickOf(data.tick, topic);
        const name = topic.slice(motorPrefix.length);
        tick.commands.set(name, values);
        if ('safety' in data) tick.actions.set(name, data.safety as 'command' | 'stop' | 'hold' | null);
      }
    }
  }
  if (!description) throw new Error(`${path}: not a spikeloop recording (no "${METADATA_NAME}" metadata)`);
  const names = [...topics.values()];
  const inputs = names.filter((t) => t.startsWith(sensorPrefix)).map((t) => t.slice(sensorPrefix.length));
  const outputs = names.filter((t) => t.startsWith(motorPrefix)).map((t) => t.slice(motorPrefix.length));
  return { path, description, inputs, outputs, ticks };
}
