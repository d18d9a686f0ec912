/** Default protocol limits (docs/protocol.md §Limits); every one is enforced and tested. */
import type { ProtocolLimits } from './protocol.js';

export const DEFAULT_LIMITS: ProtocolLimits = {
  // A 1 kHz frame of a 1000-ray scan is 4 KiB; 64 KiB leaves room without inviting abuse.
  maxFrameBytes: 64 * 1024,
  // Beyond this ws refuses to buffer the message at all (close 1009) instead of answering it.
  maxPayloadBytes: 1024 * 1024,
  maxChannels: 32,
  maxChannelValues: 4096,
  // Twice the 1 kHz tick rate per connection, with a burst allowance, covers jitter.
  maxFramesPerS: 5000,
};

export interface ServerLimits {
  maxClients: number;
  /** A client must send hello within this time or be closed. */
  helloTimeoutMs: number;
  /** Protocol errors tolerated per connection before it is closed. */
  maxErrorsPerConnection: number;
  /** Send-buffer bytes above which new frames wait (newest wins) instead of being written. */
  highWaterBytes: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxClients: 16,
  helloTimeoutMs: 5000,
  maxErrorsPerConnection: 100,
  highWaterBytes: 64 * 1024,
};
