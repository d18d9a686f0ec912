/** Loopback helpers shared by the suites that start servers and clients. */
import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (nothing listens on it after this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
