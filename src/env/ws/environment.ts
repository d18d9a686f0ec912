/**
 * The 'ws' environment: the loop's sensor sources and motor sinks fed by simulator clients of the
 * bridge's WebSocket server. Sources keep only the newest sample (from whichever simulator sent
 * it; superseded samples are counted); sinks send a motor frame to every simulator that declared
 * the channel, stamped with the seq of that simulator's newest sensor frame the tick consumed, so
 * the simulator can measure sensor→motor latency per frame on its own clock.
 */

import { buildMapping, type CodecMapping } from '../../codec/mapping.js';
import type { Decoder, Encoder } from '../../codec/types.js';
import { readConfigFile } from '../../config/load.js';
import { checkSettingKeys } from '../../config/settings.js';
import type { ArenaView, ChannelSpec, SensorFrame } from '../../io/ws/protocol.js';
import { BridgeServer, type BridgeServerOptions, type Connection } from '../../io/ws/server.js';
import type {
  CodecSpec,
  Environment,
  EnvironmentOptions,
  EnvironmentView,
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

/** A connected simulator: where its motor channels sit in frames, and what it was answered. */
interface Simulator {
  readonly connection: Connection;
  readonly motorIndex: Map<string, number>;
  readonly motorCount: number;
  /** Seq of its newest sensor frame a motor frame to it reflected so far (-1: none yet). */
  answeredSeq: number;
}

/**
 * What sources and sinks share: the server and its connected simulators. Sinks send through it
 * directly (the environment is not on the motor path).
 */
class SimulatorLink {
  server: BridgeServer | null = null;
  readonly simulators = new Map<Connection, Simulator>();
  /** Motor frames sent by any sink (the frames' `tick`). */
  motorFrames = 0;
  /** Motor commands of other widths than the simulator declared, not sent. */
  motorSizeMismatches = 0;
}

class WsSource implements SensorSource {
  private pending: SensorSample | null = null;
  private pendingFrom: Simulator | null = null;
  /**
   * The simulator that sent the newest sample the loop took: its seq (in MotorCommand.sourceSeq)
   * is a frame seq of that simulator only, so sinks echo it to that simulator alone.
   */
  takenFrom: Simulator | null = null;
  /** Samples replaced by a newer one before the loop took them. */
  superseded = 0;
  received = 0;
  onSample: (() => boolean) | undefined = undefined;

  constructor(
    readonly name: string,
    readonly size: number,
    /** False while no simulator is connected: the safety policy treats the input as stale at once. */
    readonly isLive: () => boolean,
  ) {}

  offer(values: Float32Array, seq: number, arrivalUs: MonotonicUs, from: Simulator): void {
    if (this.pending !== null) this.superseded++;
    this.received++;
    this.pending = { values, seq, arrivalUs };
    this.pendingFrom = from;
    // On a tick thread the sample is moved on at once; it is superseded there if the tick misses it.
    if (this.onSample?.() === true) this.superseded++;
  }

  takeLatest(): SensorSample | null {
    const sample = this.pending;
    if (sample !== null) this.takenFrom = this.pendingFrom;
    this.pending = null;
    this.pendingFrom = null;
    return sample;
  }
}

class WsSink implements MotorSink {
  written = 0;

  constructor(
    readonly name: string,
    private readonly link: SimulatorLink,
    private readonly sources: readonly WsSource[],
  ) {}

  /**
   * Sends the command to every simulator that declared this channel, stamped with the newest of
   * that simulator's frame seqs the command reflects (`command.sourceSeq` of the inputs whose
   * sample came from it), so each simulator measures its own round trips.
   */
  write(command: MotorCommand): void {
    this.written++;
    const server = this.link.server;
    if (server === null) return;
    const tick = ++this.link.motorFrames;
    for (const simulator of this.link.simulators.values()) {
      const index = simulator.motorIndex.get(this.name);
      if (index === undefined) continue;
      const { connection } = simulator;
      if (command.values.length !== connection.hello!.motors[index]!.size) {
        this.link.motorSizeMismatches++;
        continue;
      }
      for (const source of this.sources) {
        const seq = command.sourceSeq[source.name];
        if (source.takenFrom === simulator && seq !== undefined && seq > simulator.answeredSeq) {
          simulator.answeredSeq = seq;
        }
      }
      const v: (Float32Array | null)[] = new Array(simulator.motorCount).fill(null);
      v[index] = command.values;
      server.sendMotor(connection, {
        t: 'motor',
        seq: simulator.answeredSeq,
        ts: command.computedUs,
        tick,
        v,
      });
    }
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
  /** The tick thread rebuilds the codecs from the same mapping. */
  readonly codecSpec: CodecSpec;
  private readonly sourceByName: Map<string, WsSource>;
  private readonly link = new SimulatorLink();

  constructor(private readonly options: WsEnvironmentOptions) {
    const mapping =
      options.mapping ??
      arenaControllerMapping({
        clusters: options.clusters,
        sensorAnglesRad: DEFAULT_ARENA.sensors.anglesRad,
        maxRangeM: DEFAULT_ARENA.sensors.maxRangeM,
      });
    this.mapping = mapping;
    this.codecSpec = { mapping };
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
      (channel) => new WsSource(channel.name, channel.size, () => this.link.simulators.size > 0),
    );
    this.sinks = built.outputs.map((name) => new WsSink(name, this.link, this.sources));
    this.sourceByName = new Map(this.sources.map((source) => [source.name, source]));
  }

  /** The server simulators connect to, once `listen()` has resolved (null after close). */
  get server(): BridgeServer | null {
    return this.link.server;
  }

  async listen(): Promise<BridgeServer> {
    const { simulators } = this.link;
    const server = await BridgeServer.listen({
      port: DEFAULT_WS_PORT,
      ...this.options.server,
      tickMs: this.options.tickMs,
      sensors: this.sensorChannels,
      motors: this.motorChannels,
      onConnect: (connection) => {
        if (connection.role !== 'simulator') return;
        const motors = connection.hello!.motors;
        simulators.set(connection, {
          connection,
          motorIndex: new Map(motors.map((channel, k) => [channel.name, k])),
          motorCount: motors.length,
          answeredSeq: -1,
        });
      },
      onDisconnect: (connection) => {
        simulators.delete(connection);
        // A world nobody simulates any more is not shown as if it were live.
        if (simulators.size === 0) this.world = null;
      },
      onSensor: (connection, frame, arrivalUs) => this.receive(connection, frame, arrivalUs),
      onWorld: (_connection, frame) => {
        this.world = frame.arena;
      },
    });
    this.link.server = server;
    return server;
  }

  /** The newest world frame a simulator sent, or null. */
  private world: ArenaView | null = null;

  /** Live consumers draw the world the simulators send (world frames), not one of the bridge's own. */
  readonly view: EnvironmentView = { world: () => this.world };

  private receive(connection: Connection, frame: SensorFrame, arrivalUs: number): void {
    const simulator = this.link.simulators.get(connection);
    if (simulator === undefined) return;
    const channels = connection.hello!.sensors;
    for (let k = 0; k < frame.v.length; k++) {
      const values = frame.v[k];
      if (values === null || values === undefined) continue;
      this.sourceByName.get(channels[k]!.name)?.offer(values, frame.seq, arrivalUs, simulator);
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
      simulators: this.link.simulators.size,
      sensorSamples: received,
      sensorSuperseded: superseded,
      motorDropped: this.link.server?.outboundDropped ?? 0,
      motorSizeMismatches: this.link.motorSizeMismatches,
    };
  }

  async close(): Promise<void> {
    await this.link.server?.close();
    this.link.server = null;
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
  checkSettingKeys('ws', options.settings, SETTINGS);
  const portText = setting(options, 'port');
  const port = portText === undefined ? DEFAULT_WS_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`ws: port must be an integer in [0, 65535], got ${portText}`);
  }
  let mapping: CodecMapping | undefined;
  const mappingPath = setting(options, 'mapping');
  if (mappingPath !== undefined) {
    mapping = (await readConfigFile(mappingPath, 'mapping file')) as CodecMapping;
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
