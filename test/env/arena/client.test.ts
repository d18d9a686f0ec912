/**
 * The arena as an external simulator, on its own: a client whose bridge never answers still ends
 * when it is closed, with nothing stepped (the `arena --connect … --duration` and load-client case).
 */
import { describe, expect, it } from 'vitest';
import { ArenaClient } from '../../../src/env/arena/client.js';
import { DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { freePort } from '../../loopback.js';

describe('ArenaClient', () => {
  it('closed before any bridge answered, run() resolves with nothing stepped', async () => {
    const port = await freePort(); // nothing listens there
    const client = new ArenaClient({
      url: `ws://127.0.0.1:${port}`,
      arena: { ...DEFAULT_ARENA, seed: 1 },
      clock: { mode: 'realtime', rateHz: 1000 },
    });
    const running = client.run();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.close();
    const outcome = await Promise.race([
      running,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000).unref()),
    ]);
    expect(outcome).not.toBe('hung');
    expect(outcome).toMatchObject({ steps: 0, sensorSent: 0, motorReceived: 0 });
  });
});
