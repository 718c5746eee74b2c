import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRedis, RedisGuard, type Redis } from '../src/index.js';
import { startOwnRedisServer, TEST_REDIS_URL, type OwnRedisServer } from '../src/testing/index.js';

/** The cache's Redis bound: it times Redis, not this process's own stalls. */

let redis: Redis;
let own: OwnRedisServer;

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL);
  await redis.ping();
  own = await startOwnRedisServer();
});

afterAll(async () => {
  await redis?.quit();
  await own?.stop();
});

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end); // the event loop is stalled, as on a starved machine
}

test('a reply that arrived while the process was stalled past the timeout wins over the late timer', async () => {
  const guard = new RedisGuard({ timeoutMs: 20 });
  for (let i = 0; i < 5; i++) {
    const call = guard.run(() => redis.ping()); // written to the socket now
    busy(150); // Redis answers meanwhile; the 20 ms timer is overdue when the loop runs again
    await expect(call).resolves.toBe('PONG');
  }
  expect(guard.open).toBe(false);
});

test('a Redis that does not answer still times out within the bound, and opens the breaker', async () => {
  const client = createRedis(own.url);
  await client.ping();
  const guard = new RedisGuard({ timeoutMs: 50, openMs: 1000 });
  own.pause();
  try {
    const t0 = performance.now();
    await expect(guard.run(() => client.ping())).rejects.toThrow(/did not answer within 50 ms/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(guard.open).toBe(true);
    await expect(guard.run(() => client.ping())).rejects.toThrow(); // at once, breaker open
  } finally {
    own.resume();
    client.disconnect();
  }
});
