/**
 * The 'ws' environment: the loop's sensor sources and motor sinks fed by simulator clients of the
 * bridge's WebSocket server. Sources keep only the newest sample (from whichever simulator sent
 * it; superseded samples are counted); sinks send a motor frame to every simulator that declared
 * the channel, stamped with the seq of that simulator's newest sensor frame the tick consumed, so
 * the simulator can measure sensor→motor latency per frame on its own clock.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { buildMapping, type CodecMapping } from '../../codec/mapping.js';
import type { Decoder, Encoder } from '../../codec/types.js';
import type { ArenaView, ChannelSpec, SensorFrame } from '../../io/ws/protocol.js';
import { BridgeServer, type BridgeServerOptions, type Connection } from '../../io/ws/server.js';
import type {
  Environment,
  EnvironmentOptions,
  MonotonicUs,
  MotorCommand,
  MotorSink,
  SensorSample,
  SensorSource,
} from '../../loop/ports.js';
import { arenaChannelInfo, type ChannelInfo } from '../arena/channels.js';
import { arenaControllerMapping } from '../arena/controller.js';
import { DEFAULT_ARENA } from '../arena/world.js';

/** The port simulators connect to unless told otherwise. */
export const DEFAULT_WS_PORT = 8765;

/** Per simulator: what the loop consumed from it, and where its motor channels sit in frames. */
interface SimulatorState {
  takenSeq: number;
  motorIndex: Map<string, number>;
  motorCount: number;
}

class WsSource implements SensorSource {
  private pending: SensorSample | null = null;
  private pendingFrom: SimulatorState | null = null;
  /** Samples replaced by a newer one before the loop took them. */
  superseded = 0;
  received = 0;

  constructor(
    readonly name: string,
    readonly size: number,
    /** False while no simulator is connected: the safety policy treats the input as stale at once. */
    readonly isLive: () => boolean,
  ) {}

  offer(values: Float32Array, seq: number, arrivalUs: MonotonicUs, from: SimulatorState): void {
    if (this.pending !== null) this.superseded++;
    this.received++;
    this.pending = { values, seq, arrivalUs };
    this.pendingFrom = from;
  }

  takeLatest(): SensorSample | null {
    const sample = this.pending;
    if (sample !== null && this.pendingFrom !== null) {
      this.pendingFrom.takenSeq = Math.max(this.pendingFrom.takenSeq, sample.seq);
    }
    this.pending = null;
    this.pendingFrom = null;
    return sample;
  }
}

class WsSink implements MotorSink {
  written = 0;

  constructor(
    readonly name: string,
    private readonly env: WsEnvironment,
  ) {}

  write(command: MotorCommand): void {
    this.written++;
    this.env.sendMotor(this.name, command);
  }
}

export interface WsEnvironmentOptions {
  clusters: number;
  tickMs: number;
  mapping?: CodecMapping;
  /** Descriptions of known channels sent in config (default: the built-in arena's). */
  channelInfo?: Record<string, ChannelInfo>;
  server?: Omit<
    BridgeServerOptions,
    'sensors' | 'motors' | 'onSensor' | 'onConnect' | 'onDisconnect' | 'tickMs'
  >;
}

export class WsEnvironment implements Environment {
  readonly name = 'ws';
  readonly encoders: readonly Encoder[];
  readonly decoders: readonly Decoder[];
  readonly sources: readonly WsSource[];
  readonly sinks: readonly WsSink[];
  readonly sensorChannels: ChannelSpec[];
  readonly motorChannels: ChannelSpec[];
  /** The codec mapping the encoders and decoders were built from (recordings store it). */
  readonly mapping: CodecMapping;
  private readonly sourceByName: Map<string, WsSource>;
  private readonly simulators = new Map<Connection, SimulatorState>();
  private motorFrames = 0;
  server: BridgeServer | null = null;

  constructor(private readonly options: WsEnvironmentOptions) {
    const mapping =
      options.mapping ??
      arenaControllerMapping({
        clusters: options.clusters,
        sensorAnglesRad: DEFAULT_ARENA.sensors.anglesRad,
        maxRangeM: DEFAULT_ARENA.sensors.maxRangeM,
      });
    this.mapping = mapping;
    const built = buildMapping(mapping, { clusters: options.clusters, tickMs: options.tickMs });
    this.encoders = built.encoders;
    this.decoders = built.decoders;
    // The arena's channels are described in config (units, ranges, ray angles, signs) when this
    // bridge uses them with the arena's sizes; a custom mapping's channels carry no description.
    const info = options.channelInfo ?? arenaChannelInfo(DEFAULT_ARENA);
    const described = (name: string, size: number): ChannelSpec => {
      const known: ChannelInfo | undefined = info[name];
      const fits = known !== undefined && known.components.length === size;
      return { name, size, rateHz: 1000 / options.tickMs, ...(fits ? known : {}) };
    };
    this.sensorChannels = [...built.inputs].map(([name, size]) => described(name, size));
    // Every built-in decoder has a fixed width; a simulator declaring another is refused at hello.
    this.motorChannels = built.decoders.map((decoder) => described(decoder.output, decoder.size ?? 0));
    this.sources = this.sensorChannels.map(
      (channel) => new WsSource(channel.name, channel.size, () => this.simulators.size > 0),
    );
    this.sinks = built.outputs.map((name) => new WsSink(name, this));
    this.sourceByName = new Map(this.sources.map((source) => [source.name, source]));
  }

  async listen(): Promise<BridgeServer> {
    this.server = await BridgeServer.listen({
      port: DEFAULT_WS_PORT,
      ...this.options.server,
      tickMs: this.options.tickMs,
      sensors: this.sensorChannels,
      motors: this.motorChannels,
      onConnect: (connection) => {
        if (connection.role !== 'simulator') return;
        const motors = connection.hello!.motors;
        this.simulators.set(connection, {
          takenSeq: -1,
          motorIndex: new Map(motors.map((channel, k) => [channel.name, k])),
          motorCount: motors.length,
        });
      },
      onDisconnect: (connection) => {
        this.simulators.delete(connection);
        // A world nobody simulates any more is not shown as if it were live.
        if (this.simulators.size === 0) this.world = null;
      },
      onSensor: (connection, frame, arrivalUs) => this.receive(connection, frame, arrivalUs),
      onWorld: (_connection, frame) => {
        this.world = frame.arena;
      },
    });
    return this.server;
  }

  /** The newest world view a simulator sent (for the dashboard), or null. */
  private world: ArenaView | null = null;

  arenaView(): ArenaView | null {
    return this.world;
  }

  /** Motor commands of other widths than the simulator declared, not sent. */
  motorSizeMismatches = 0;

  sendMotor(channel: string, command: MotorCommand): void {
    const server = this.server;
    if (server === null) return;
    this.motorFrames++;
    for (const [connection, state] of this.simulators) {
      const index = state.motorIndex.get(channel);
      if (index === undefined) continue;
      if (command.values.length !== connection.hello!.motors[index]!.size) {
        this.motorSizeMismatches++;
        continue;
      }
      const v: (Float32Array | null)[] = new Array(state.motorCount).fill(null);
      v[index] = command.values;
      server.sendMotor(connection, {
        t: 'motor',
        seq: state.takenSeq,
        ts: command.computedUs,
        tick: this.motorFrames,
        v,
      });
    }
  }

  private receive(connection: Connection, frame: SensorFrame, arrivalUs: number): void {
    const state = this.simulators.get(connection);
    if (state === undefined) return;
    const channels = connection.hello!.sensors;
    for (let k = 0; k < frame.v.length; k++) {
      const values = frame.v[k];
      if (values === null || values === undefined) continue;
      this.sourceByName.get(channels[k]!.name)?.offer(values, frame.seq, arrivalUs, state);
    }
  }

  summary(): Record<string, number> {
    let received = 0;
    let superseded = 0;
    for (const source of this.sources) {
      received += source.received;
      superseded += source.superseded;
    }
    return {
      simulators: this.simulators.size,
      sensorSamples: received,
      sensorSuperseded: superseded,
      motorDropped: this.server?.outboundDropped ?? 0,
      motorSizeMismatches: this.motorSizeMismatches,
    };
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }
}

const SETTINGS = ['host', 'port', 'token', 'mapping'];

function setting(options: EnvironmentOptions, key: string): string | undefined {
  const value = options.settings?.[key];
  return value === undefined ? undefined : String(value);
}

/**
 * Registry factory for `spikeloop run --env ws`. Settings: `host` (default 127.0.0.1), `port`
 * (default 8765; 0 picks a free one), `token` (default $SPIKELOOP_TOKEN; required beyond
 * loopback), `mapping` (a JSON or YAML CodecMapping file; default: the arena controller, whose
 * channels `spikeloop arena` declares).
 */
export async function createWsEnvironment(options: EnvironmentOptions): Promise<WsEnvironment> {
  for (const key of Object.keys(options.settings ?? {})) {
    if (!SETTINGS.includes(key))
      throw new Error(`ws: unknown setting "${key}"; expected ${SETTINGS.join(', ')}`);
  }
  const portText = setting(options, 'port');
  const port = portText === undefined ? DEFAULT_WS_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`ws: port must be an integer in [0, 65535], got ${portText}`);
  }
  let mapping: CodecMapping | undefined;
  const mappingPath = setting(options, 'mapping');
  if (mappingPath !== undefined) {
    const text = await readFile(mappingPath, 'utf8').catch((error: Error) => {
      throw new Error(`ws: cannot read mapping file ${mappingPath}: ${error.message}`);
    });
    mapping = (mappingPath.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as CodecMapping;
  }
  const env = new WsEnvironment({
    clusters: options.layout.clusters,
    tickMs: options.tickMs,
    mapping,
    server: {
      host: setting(options, 'host'),
      port,
      portHint: '--env-set port=N',
      // --env-set token= wins over the run's --token, which wins over $SPIKELOOP_TOKEN.
      token: setting(options, 'token') ?? options.token ?? (process.env.SPIKELOOP_TOKEN || undefined),
    },
  });
  const server = await env.listen();
  process.stderr.write(`spikeloop: ws environment: simulators connect to ${server.url}\n`);
  return env;
}
