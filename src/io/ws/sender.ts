/**
 * Backpressure without blocking: a frame is written only while the socket's send buffer is under a
 * high-water mark. Otherwise it waits in a single slot that the next frame overwrites (newest frame
 * wins; the overwritten one is counted as dropped), and goes out when the previous write completes.
 * Stale motor commands or telemetry are worth nothing, so queueing them would only add latency.
 */

/** The part of a `ws` WebSocket the sender uses (also satisfied by test doubles of the socket). */
export interface FrameSocket {
  readonly readyState: number;
  /** Bytes queued but not yet handed to the kernel (ws: sender queue + socket buffer). */
  readonly bufferedAmount: number;
  send(data: Uint8Array, callback: (error?: Error) => void): void;
}

const OPEN = 1;

export class LatestWinsSender {
  private pending: Uint8Array | null = null;
  private inFlight = 0;
  /** Frames handed to the socket. */
  sent = 0;
  /** Frames overwritten while waiting, or offered to a closed socket. */
  dropped = 0;

  constructor(
    private readonly socket: FrameSocket,
    readonly highWaterBytes: number,
  ) {}

  /** Returns at once; true if the frame went to the socket now, false if it waits or was dropped. */
  offer(frame: Uint8Array): boolean {
    if (this.socket.readyState !== OPEN) {
      this.dropped++;
      return false;
    }
    if (this.inFlight > 0 && this.socket.bufferedAmount >= this.highWaterBytes) {
      if (this.pending !== null) this.dropped++;
      this.pending = frame;
      return false;
    }
    this.write(frame);
    return true;
  }

  /** Frames waiting in the slot (0 or 1). */
  get waiting(): number {
    return this.pending === null ? 0 : 1;
  }

  private write(frame: Uint8Array): void {
    this.inFlight++;
    this.sent++;
    this.socket.send(frame, () => {
      this.inFlight--;
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending === null) return;
    if (this.socket.readyState !== OPEN) {
      this.pending = null;
      this.dropped++;
      return;
    }
    if (this.inFlight > 0 && this.socket.bufferedAmount >= this.highWaterBytes) return;
    const frame = this.pending;
    this.pending = null;
    this.write(frame);
  }
}
