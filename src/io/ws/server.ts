/**
 * The bridge's WebSocket server: handshake, authentication, per-connection validation and limits,
 * and the two outbound streams (motor frames to simulators, telemetry to observers). One bad client
 * gets an error frame and a log line; the others are never affected. What the frames mean (sensor
 * sources, motor sinks) lives in src/env/ws/environment.ts; this file only speaks the protocol.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { checkBindAccess, DEFAULT_HOST, tokenMatches } from './access.js';
import { ProtocolError } from './errors.js';
import { FrameRateLimiter } from './limiter.js';
import { DEFAULT_LIMITS, DEFAULT_SERVER_LIMITS, type ServerLimits } from './limits.js';
import { LogBudget, safeLogLine } from './log-line.js';
import {
  encodeConfig,
  encodeError,
  encodeMotorFrame,
  encodeTelemetryFrame,
  parseWorldFrame,
} from './messages.js';
import {
  type ChannelSpec,
  CLOSE_CODES,
  type ConfigMessage,
  type ErrorFrame,
  type HelloMessage,
  type MotorFrame,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type ProtocolLimits,
  type Role,
  type SensorFrame,
  type TelemetryFrame,
  type WorldFrame,
} from './protocol.js';
import { LatestWinsSender } from './sender.js';
import { messageType, parseHello, parseSensorFrame } from './validation.js';
import { createWireCodec, type WireCodec } from './wire.js';

export type LogLine = (line: string) => void;

export interface BridgeServerOptions {
  /** Default 127.0.0.1; any non-loopback address requires `token`. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  limits?: Partial<ProtocolLimits>;
  serverLimits?: Partial<ServerLimits>;
  /**
   * Channels the bridge expects. A simulator may declare a subset; a channel not listed here or
   * with another size is refused. Undefined accepts any channels.
   */
  sensors?: readonly ChannelSpec[];
  motors?: readonly ChannelSpec[];
  tickMs?: number;
  telemetryHz?: number;
  log?: LogLine;
  /** How to pick another port, named when the port is in use (e.g. "--env-set port=N"). */
  portHint?: string;
  /** Serves plain HTTP requests on the same port (the dashboard page); false = 404. */
  http?: (request: IncomingMessage, response: ServerResponse) => boolean;
  /** Called for every accepted sensor frame, with the arrival time on the bridge clock (µs). */
  onSensor?: (connection: Connection, frame: SensorFrame, arrivalUs: number) => void;
  /** Called for every accepted world frame (a simulator's view of its world, for dashboards). */
  onWorld?: (connection: Connection, frame: WorldFrame) => void;
  onConnect?: (connection: Connection) => void;
  onDisconnect?: (connection: Connection) => void;
}

export interface ConnectionStats {
  framesIn: number;
  errors: number;
  /** Frames discarded by the rate limit. */
  rateDropped: number;
}

/** One client after (or while awaiting) its hello. */
export class Connection {
  hello: HelloMessage | null = null;
  codec: WireCodec = createWireCodec(false);
  lastSensorSeq = -1;
  readonly stats: ConnectionStats = { framesIn: 0, errors: 0, rateDropped: 0 };
  readonly sender: LatestWinsSender;
  lastRateErrorUs = Number.NEGATIVE_INFINITY;
  /** Set with the first fatal error: messages already received are dropped unread. */
  closing = false;
  /** Log lines this client may still cause (a flood of errors must not flood the log). */
  readonly logBudget = new LogBudget();

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
    readonly limiter: FrameRateLimiter,
    highWaterBytes: number,
  ) {
    this.sender = new LatestWinsSender(socket, highWaterBytes);
  }

  get role(): Role | null {
    return this.hello?.role ?? null;
  }

  get label(): string {
    const name = this.hello?.name ? ` "${this.hello.name}"` : '';
    return `session ${this.id}${name} (${this.remote})`;
  }
}

export const nowUs = (): number => performance.now() * 1000;

export class BridgeServer {
  readonly limits: ProtocolLimits;
  readonly serverLimits: ServerLimits;
  readonly connections = new Set<Connection>();
  private nextId = 1;
  private readonly log: LogLine;
  private readonly telemetryCodecs = [createWireCodec(false), createWireCodec(true)];

  private constructor(
    private readonly options: BridgeServerOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly host: string,
    readonly port: number,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.serverLimits = { ...DEFAULT_SERVER_LIMITS, ...options.serverLimits };
    const sink = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    // Every log line passes here: peer-supplied text is escaped and cut in this one place.
    this.log = (line) => sink(safeLogLine(line));
    wss.on('connection', (socket, request) => this.accept(socket, request));
  }

  static async listen(options: BridgeServerOptions = {}): Promise<BridgeServer> {
    const host = options.host ?? DEFAULT_HOST;
    if (options.token === '') throw new Error('the access token must not be empty');
    checkBindAccess(host, options.token);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const http = createServer((request, response) => {
      if (options.http?.(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    });
    const wss = new WebSocketServer({
      server: http,
      maxPayload: limits.maxPayloadBytes,
      // Compression costs CPU on the tick's machine for frames of a few hundred bytes.
      perMessageDeflate: false,
    });
    // ws re-emits the HTTP server's errors on the WebSocketServer: without a listener there, a
    // port in use would be an uncaught 'error' event and a stack trace instead of one line.
    wss.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      http.once('error', (error) => reject(listenError(error, host, options.port ?? 0, options.portHint)));
      http.listen(options.port ?? 0, host, () => {
        http.removeAllListeners('error');
        resolve();
      });
    });
    const { port } = http.address() as AddressInfo;
    return new BridgeServer(options, http, wss, host, port);
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  get httpUrl(): string {
    return this.url.replace(/^ws:/, 'http:');
  }

  *clients(role: Role): Iterable<Connection> {
    for (const connection of this.connections) if (connection.role === role) yield connection;
  }

  /** Newest-wins send of a motor frame to one simulator; never waits. */
  sendMotor(connection: Connection, frame: MotorFrame): boolean {
    return connection.sender.offer(encodeMotorFrame(connection.codec, frame));
  }

  /** Encodes once and offers the frame to every observer; slow observers drop frames. */
  broadcastTelemetry(frame: TelemetryFrame): number {
    let observers = 0;
    // Two encodings at most: a records peer must never see fixints 0x40–0x7f (they are record
    // references there), which a plain encoder emits for small integers.
    const bytes: (Uint8Array | null)[] = [null, null];
    for (const connection of this.clients('observer')) {
      const variant = connection.codec.records ? 1 : 0;
      bytes[variant] ??= encodeTelemetryFrame(this.telemetryCodecs[variant]!, frame);
      connection.sender.offer(bytes[variant]!);
      observers++;
    }
    return observers;
  }

  /** Frames dropped by newest-wins on every connection's outbound stream. */
  get outboundDropped(): number {
    let dropped = 0;
    for (const connection of this.connections) dropped += connection.sender.dropped;
    return dropped;
  }

  async close(): Promise<void> {
    for (const connection of this.connections)
      connection.socket.close(CLOSE_CODES.going, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const connection of this.connections) connection.socket.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const limiter = new FrameRateLimiter(
      this.limits.maxFramesPerS,
      Math.max(10, this.limits.maxFramesPerS / 10),
      nowUs(),
    );
    const connection = new Connection(
      this.nextId++,
      socket,
      remote,
      limiter,
      this.serverLimits.highWaterBytes,
    );
    this.connections.add(connection);
    if (this.connections.size > this.serverLimits.maxClients) {
      socket.on('close', () => this.connections.delete(connection));
      this.fail(
        connection,
        new ProtocolError('server-full', `server full (${this.serverLimits.maxClients} clients)`, true),
      );
      return;
    }
    const helloTimer = setTimeout(() => {
      if (connection.hello === null) {
        this.fail(
          connection,
          new ProtocolError('hello-timeout', `no hello within ${this.serverLimits.helloTimeoutMs} ms`, true),
        );
      }
    }, this.serverLimits.helloTimeoutMs);
    helloTimer.unref();
    socket.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    socket.on('error', (error: Error & { code?: string }) => {
      // ws reports frames over maxPayload here and closes with 1009 itself.
      this.logFor(connection, `ws: ${connection.label}: ${error.code ?? 'error'}: ${error.message}`);
    });
    socket.on('close', (code) => {
      clearTimeout(helloTimer);
      this.connections.delete(connection);
      if (connection.hello !== null) {
        this.logFor(connection, `ws: ${connection.label} ${connection.role} disconnected (${code})`, true);
        this.options.onDisconnect?.(connection);
      }
    });
  }

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // After a fatal error the connection is over: frames already buffered are not parsed, answered
    // or logged (a flood would otherwise keep costing work and log lines after the close).
    if (connection.closing) return;
    const arrivalUs = nowUs();
    try {
      const bytes = toBytes(data);
      if (!isBinary)
        throw new ProtocolError('malformed', 'frames must be binary WebSocket messages (MessagePack)');
      if (bytes.byteLength > this.limits.maxFrameBytes) {
        throw new ProtocolError(
          'too-large',
          `frame of ${bytes.byteLength} bytes exceeds maxFrameBytes ${this.limits.maxFrameBytes}; discarded`,
        );
      }
      if (!connection.limiter.allow(arrivalUs)) {
        connection.stats.rateDropped++;
        // One error frame per second at most: the answer to a flood must not be a flood.
        if (arrivalUs - connection.lastRateErrorUs < 1e6) return;
        connection.lastRateErrorUs = arrivalUs;
        throw new ProtocolError(
          'rate',
          `more than ${this.limits.maxFramesPerS} frames/s; ${connection.stats.rateDropped} discarded so far`,
        );
      }
      let message: unknown;
      try {
        message = connection.codec.decode(bytes);
      } catch (error) {
        throw new ProtocolError('malformed', `not valid MessagePack: ${(error as Error).message}`);
      }
      connection.stats.framesIn++;
      this.dispatch(connection, messageType(message), message, arrivalUs);
    } catch (error) {
      const problem =
        error instanceof ProtocolError
          ? error
          : new ProtocolError('bad-message', `internal error: ${(error as Error).message}`);
      // Before hello the only acceptable message is a hello: anything else ends the connection.
      this.fail(
        connection,
        connection.hello === null && !problem.fatal
          ? new ProtocolError('not-ready', `expected hello first: ${problem.code}: ${problem.message}`, true)
          : problem,
      );
    }
  }

  private dispatch(connection: Connection, type: string, message: unknown, arrivalUs: number): void {
    if (connection.hello === null) {
      if (type !== 'hello')
        throw new ProtocolError('not-ready', `"${type}" before hello; send hello first`, true);
      this.greet(connection, message);
      return;
    }
    switch (type) {
      case 'sensor': {
        if (connection.role !== 'simulator') {
          throw new ProtocolError('bad-message', 'only simulator clients send sensor frames');
        }
        const frame = parseSensorFrame(message, connection.hello.sensors, connection.lastSensorSeq);
        connection.lastSensorSeq = frame.seq;
        this.options.onSensor?.(connection, frame, arrivalUs);
        return;
      }
      case 'world': {
        if (connection.role !== 'simulator')
          throw new ProtocolError('bad-message', 'only simulator clients send world frames');
        this.options.onWorld?.(connection, parseWorldFrame(message));
        return;
      }
      case 'hello':
        throw new ProtocolError('bad-message', 'hello was already accepted on this connection');
      case 'error': {
        // Logged (escaped and cut like every line) and counted against the connection's error
        // budget, so a client cannot turn its own error reports into a log flood.
        const { code, message: text } = message as { code?: unknown; message?: unknown };
        connection.stats.errors++;
        this.logFor(connection, `ws: ${connection.label} reported error ${String(code)}: ${String(text)}`);
        this.checkErrorBudget(connection);
        return;
      }
      default:
        throw new ProtocolError('bad-message', `"${type}" is sent by the server, not by clients`);
    }
  }

  private greet(connection: Connection, message: unknown): void {
    const hello = parseHello(message, this.limits);
    if (this.options.token !== undefined && !tokenMatches(this.options.token, hello.token)) {
      throw new ProtocolError(
        'unauthorized',
        hello.token === null ? 'this server requires a token in hello.token' : 'hello.token does not match',
        true,
      );
    }
    if (hello.role === 'simulator') {
      checkChannels('sensor', hello.sensors, this.options.sensors);
      checkChannels('motor', hello.motors, this.options.motors);
    }
    connection.hello = hello;
    const config: ConfigMessage = {
      t: 'config',
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      session: connection.id,
      role: hello.role,
      tickMs: this.options.tickMs ?? 1,
      sensors: describeAccepted(hello.sensors, this.options.sensors),
      motors: describeAccepted(hello.motors, this.options.motors),
      features: hello.features,
      limits: this.limits,
      telemetryHz: this.options.telemetryHz ?? 20,
    };
    // config itself is a plain map; the granted features apply to the frames after it.
    connection.socket.send(encodeConfig(connection.codec, config));
    connection.codec = createWireCodec(hello.features.includes('records'));
    this.log(
      `ws: ${connection.label} connected as ${hello.role}` +
        (hello.role === 'simulator'
          ? ` (sensors ${describe(hello.sensors)}; motors ${describe(hello.motors)})`
          : ''),
    );
    this.options.onConnect?.(connection);
  }

  private fail(connection: Connection, error: ProtocolError): void {
    connection.stats.errors++;
    this.report(connection, error);
    if (!error.fatal) this.checkErrorBudget(connection);
  }

  private checkErrorBudget(connection: Connection): void {
    if (connection.closing || connection.stats.errors < this.serverLimits.maxErrorsPerConnection) return;
    this.report(
      connection,
      new ProtocolError('too-many-errors', `${connection.stats.errors} errors on this connection`, true),
    );
  }

  /**
   * A log line caused by one client, within its log budget; fatal lines always pass and say how
   * many lines the budget held back.
   */
  private logFor(connection: Connection, line: string, always = false): void {
    if (!always && !connection.logBudget.take()) return;
    const held = connection.logBudget.suppressed;
    connection.logBudget.suppressed = 0;
    this.log(held > 0 ? `${line} (${held} similar line(s) from this client not logged)` : line);
  }

  /** One log line and one error frame; a fatal error then closes this connection only. */
  private report(connection: Connection, error: ProtocolError): void {
    if (error.fatal) connection.closing = true;
    this.logFor(
      connection,
      `ws: ${connection.label}: ${error.code}: ${error.message}${error.fatal ? ' (closing)' : ''}`,
      error.fatal,
    );
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    const frame: ErrorFrame = {
      t: 'error',
      code: error.code,
      message: error.message,
      fatal: error.fatal,
      seq: error.seq,
    };
    connection.socket.send(encodeError(connection.codec, frame));
    if (error.fatal) connection.socket.close(closeCode(error.code), error.code);
  }
}

/** The WebSocket close code that follows a fatal error of this code (docs/protocol.md §4.7). */
export function closeCode(code: ProtocolError['code']): number {
  switch (code) {
    case 'version':
      return CLOSE_CODES.version;
    case 'unauthorized':
      return CLOSE_CODES.unauthorized;
    case 'hello-timeout':
      return CLOSE_CODES.helloTimeout;
    case 'too-many-errors':
      return CLOSE_CODES.tooManyErrors;
    case 'server-full':
      return CLOSE_CODES.serverFull;
    default:
      return CLOSE_CODES.policy;
  }
}

function checkChannels(
  kind: string,
  declared: readonly ChannelSpec[],
  expected: readonly ChannelSpec[] | undefined,
) {
  if (expected === undefined) return;
  for (const channel of declared) {
    const known = expected.find((candidate) => candidate.name === channel.name);
    if (known === undefined) {
      throw new ProtocolError(
        'channel',
        `unknown ${kind} channel "${channel.name}"; this bridge has ${describe(expected) || 'none'}`,
        true,
      );
    }
    // size 0: the bridge takes whatever width the simulator declares (decoder outputs).
    if (known.size !== 0 && known.size !== channel.size) {
      throw new ProtocolError(
        'channel',
        `${kind} channel "${channel.name}" has ${channel.size} values; this bridge expects ${known.size}`,
        true,
      );
    }
  }
}

/** The accepted channels in the client's order, with the bridge's description of each where it has one. */
function describeAccepted(
  declared: readonly ChannelSpec[],
  known: readonly ChannelSpec[] | undefined,
): ChannelSpec[] {
  return declared.map((channel) => {
    const bridge = known?.find((candidate) => candidate.name === channel.name);
    return bridge === undefined
      ? channel
      : { ...bridge, name: channel.name, size: channel.size, rateHz: channel.rateHz };
  });
}

/** A failed listen as one line naming the address and what to do. */
function listenError(error: Error & { code?: string }, host: string, port: number, hint?: string): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new Error(
      `cannot listen on ${where}: the port is in use by another process (EADDRINUSE)${hint ? `; choose another with ${hint}` : ''}`,
    );
  }
  if (error.code === 'EACCES') {
    return new Error(`cannot listen on ${where}: permission denied (EACCES; ports below 1024 need root)`);
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new Error(`cannot listen on ${where}: no such local address (EADDRNOTAVAIL)`);
  }
  return new Error(`cannot listen on ${where}: ${error.message}`);
}

function describe(channels: readonly ChannelSpec[]): string {
  return channels.map((channel) => `${channel.name}[${channel.size}]`).join(', ');
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
