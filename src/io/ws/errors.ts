/** Protocol errors: each becomes one error frame to the peer and one log line on the server. */
import type { ErrorCode } from './protocol.js';

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The server closes the connection after answering a fatal error. */
    readonly fatal = false,
    /** seq of the offending frame, or -1. */
    readonly seq = -1,
  ) {
    super(message);
  }
}
