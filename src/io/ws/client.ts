/**
 * A protocol client for Node (simulators such as `spikeloop arena --connect`, benchmarks, tests):
 * hello/config handshake, newest-wins sensor sending, and reconnection with backoff when the
 * bridge goes away. Refusals that a retry cannot fix (version, token) stop reconnection.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import { encodeHello, encodeSensorFrame, encodeWorldFrame, parseServerMessage } from './messages.js';
import {
  type ArenaView,
  type ChannelSpec,
  CLOSE_CODES,
  type ConfigMessage,
  type ErrorFrame,
  type Feature,
  type MotorFrame,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type Role,
  type ServerMessage,
  type TelemetryFrame,
} from './protocol.js';
import { LatestWinsSender } from './sender.js';
import { createWireCodec, type WireCodec } from './wire.js';

export interface BridgeClientOptions {
  url: string;
  role: Role;
  name?: string;
  token?: string;
  sensors?: ChannelSpec[];
  motors?: ChannelSpec[];
  /** Wire features to ask for (default: records, the fast path). */
  features?: Feature[];
  /** false: no reconnection; otherwise backoff settings. Default on. */
  reconnect?: false | Partial<BackoffOptions>;
  highWaterBytes?: number;
  onConfig?: (config: ConfigMessage) => void;
  /** `arrivalUs`: this process's monotonic clock (µs) when the frame arrived. */
  onMotor?: (frame: MotorFrame, arrivalUs: number) => void;
  onTelemetry?: (frame: TelemetryFrame) => void;
  onError?: (frame: ErrorFrame) => void;
  onClose?: (code: number, reason: string) => void;
}

export interface ClientStats {
  sensorSent: number;
  /** Sensor frames overwritten by newer ones while the socket was congested, or sent while down. */
  sensorDropped: number;
  reconnects: number;
}

/** Close codes after which reconnecting cannot succeed. */
const FINAL_CLOSE_CODES = new Set<number>([CLOSE_CODES.version, CLOSE_CODES.unauthorized]);

export class BridgeClient {
  private socket: WebSocket | null = null;
  private sender: LatestWinsSender | null = null;
  private worldSender: LatestWinsSender | null = null;
  private codec: WireCodec = createWireCodec(false);
  private config: ConfigMessage | null = null;
  private seq = 0;
  private attempt = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readyWaiters: { resolve: (c: ConfigMessage) => void; reject: (e: Error) => void }[] = [];
  private lastError: ErrorFrame | null = null;
  private droppedOnDeadSockets = 0;
  private sentOnDeadSockets = 0;
  private readonly backoff: BackoffOptions | null;
  readonly stats: ClientStats = { sensorSent: 0, sensorDropped: 0, reconnects: 0 };

  constructor(private readonly options: BridgeClientOptions) {
    this.backoff = options.reconnect === false ? null : { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.open();
  }

  /** Resolves with the config reply of the current (or next) connection. */
  ready(): Promise<ConfigMessage> {
    if (this.config !== null) return Promise.resolve(this.config);
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  get connected(): boolean {
    return this.config !== null;
  }

  /** The sequence number the next sensor frame will carry. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Sends one sensor frame (values per declared channel, null = unchanged) and returns its seq, or
   * -1 when not connected. Never waits: under backpressure the newest frame replaces a waiting one.
   */
  sendSensor(values: readonly (Float32Array | null)[], tsUs = performance.now() * 1000): number {
    if (this.config === null || this.sender === null) {
      this.stats.sensorDropped++;
      this.droppedOnDeadSockets++;
      return -1;
    }
    const seq = this.seq++;
    this.sender.offer(encodeSensorFrame(this.codec, { t: 'sensor', seq, ts: tsUs, v: [...values] }));
    this.stats.sensorSent = this.sentOnDeadSockets + this.sender.sent;
    this.stats.sensorDropped = this.droppedOnDeadSockets + this.sender.dropped;
    return seq;
  }

  /**
   * Sends a world frame (the simulator's view, for dashboards) on its own newest-wins slot, so it
   * never displaces a sensor frame. Returns false when not connected.
   */
  sendWorld(arena: ArenaView, tsUs = performance.now() * 1000): boolean {
    if (this.config === null || this.worldSender === null) return false;
    this.worldSender.offer(encodeWorldFrame(this.codec, { t: 'world', ts: tsUs, arena }));
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(CLOSE_CODES.normal, 'client closing');
    });
  }

  private open(): void {
    const socket = new WebSocket(this.options.url, { perMessageDeflate: false });
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => {
      this.codec = createWireCodec(false);
      socket.send(
        encodeHello(this.codec, {
          t: 'hello',
          protocol: PROTOCOL_NAME,
          version: PROTOCOL_VERSION,
          role: this.options.role,
          name: this.options.name ?? '',
          token: this.options.token ?? null,
          sensors: this.options.sensors ?? [],
          motors: this.options.motors ?? [],
          features: this.options.features ?? ['records'],
        }),
      );
    });
    socket.on('message', (data: Buffer) => this.receive(socket, data));
    socket.on('error', () => {
      // Connection failures arrive as 'close' too; reconnection is decided there.
    });
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private receive(socket: WebSocket, data: Buffer): void {
    const arrivalUs = performance.now() * 1000;
    let message: ServerMessage;
    try {
      message = parseServerMessage(this.codec.decode(data));
    } catch (error) {
      // A frame this client cannot read is reported and skipped; it must not crash the simulator.
      this.options.onError?.({
        t: 'error',
        code: 'malformed',
        message: `unreadable server frame: ${(error as Error).message}`,
        fatal: false,
        seq: -1,
      });
      return;
    }
    switch (message.t) {
      case 'config': {
        this.config = message;
        this.attempt = 0;
        this.codec = createWireCodec(message.features.includes('records'));
        if (this.sender !== null) {
          this.sentOnDeadSockets += this.sender.sent;
          this.droppedOnDeadSockets += this.sender.dropped;
        }
        this.sender = new LatestWinsSender(socket, this.options.highWaterBytes ?? 64 * 1024);
        this.worldSender = new LatestWinsSender(socket, this.options.highWaterBytes ?? 64 * 1024);
        this.options.onConfig?.(message);
        for (const waiter of this.readyWaiters.splice(0)) waiter.resolve(message);
        return;
      }
      case 'motor':
        this.options.onMotor?.(message, arrivalUs);
        return;
      case 'telemetry':
        this.options.onTelemetry?.(message);
        return;
      case 'error':
        this.lastError = message;
        this.options.onError?.(message);
        return;
    }
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.config = null;
    this.options.onClose?.(code, reason);
    const final = FINAL_CLOSE_CODES.has(code);
    if (this.closed || this.backoff === null || final) {
      const why = this.lastError ? `${this.lastError.code}: ${this.lastError.message}` : `closed (${code})`;
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(new Error(`bridge refused: ${why}`));
      return;
    }
    const delayMs = backoffDelayMs(this.attempt++, this.backoff, Math.random());
    this.stats.reconnects++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.open();
    }, delayMs);
  }
}
