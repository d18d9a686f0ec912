/**
 * Who may connect: loopback binds are private to this machine; any other bind address exposes the
 * bridge (sensor input, motor output) to the network, so a token is then mandatory.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const DEFAULT_HOST = '127.0.0.1';

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Throws when binding to `host` without a token would expose the bridge. */
export function checkBindAccess(host: string, token: string | undefined): void {
  if (!isLoopbackHost(host) && !token) {
    throw new Error(
      `binding to ${host} exposes the bridge beyond this machine: a token is required (--token or SPIKELOOP_TOKEN)`,
    );
  }
}

/** Constant-time comparison, so response timing does not reveal how much of a guess was right. */
export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
