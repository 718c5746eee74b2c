import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CacheAside, createRedis, ServiceMetrics } from '../src/index.js';
import type { CacheLoader, Redis } from '../src/index.js';
import { startOwnRedisServer } from '../src/testing/index.js';
import type { OwnRedisServer } from '../src/testing/index.js';

interface Product {
  readonly price: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: OwnRedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startOwnRedisServer();
  redis = createRedis(server.url);
  await redis.ping();
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function counted() {
  const calls = { n: 0 };
  const loader: CacheLoader<Product> = async () => {
    calls.n++;
    await sleep(5);
    return { value: { price: 100 }, version: 1 };
  };
  return { calls, loader };
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Sends `n` reads one after another and returns the slowest, ms; every read must return the source's value. */
async function slowestOf(c: CacheAside<Product>, loader: CacheLoader<Product>, n: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < n; i++) {
    const started = Date.now();
    expect(await c.get('SKU-1', loader)).toMatchObject({ value: { price: 100 }, version: 1 });
    slowest = Math.max(slowest, Date.now() - started);
  }
  return slowest;
}

describe('CacheAside when Redis fails', () => {
  test('blackholed (SIGSTOP): reads go to the source within a bounded time, and back to the cache after', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const c = new CacheAside<Product>({
      redis,
      name: 'product',
      schemaVersion: 1,
      metrics,
      redisTimeoutMs: 50,
      redisRetryMs: 200,
      beta: 0,
    });
    const { calls, loader } = counted();
    await c.get('SKU-1', loader);
    expect(calls.n).toBe(1);
    server.pause();
    try {
      // Without the cache's own timeout a read would wait for a Redis that never answers. Each read
      // pays at most one 50 ms timeout (then the breaker skips Redis), far below the 1 s bound here.
      expect(await slowestOf(c, loader, 20)).toBeLessThan(1000);
      const concurrent = await Promise.all(Array.from({ length: 50 }, () => c.get('SKU-1', loader)));
      expect(concurrent.every((r) => r?.version === 1)).toBe(true);
      expect(calls.n).toBeGreaterThan(1);
      const text = await metrics.text();
      expect(sample(text, 'aio_cache_errors_total{cache="product",kind="redis"}')).toBeGreaterThan(0);
      expect(
        sample(text, 'aio_cache_loads_total{cache="product",reason="redis-down",outcome="ok"}'),
      ).toBeGreaterThan(0);
    } finally {
      server.resume();
    }
    await sleep(300); // past redisRetryMs: Redis is tried again
    const before = calls.n;
    await c.get('SKU-1', loader);
    await c.get('SKU-1', loader);
    expect(calls.n - before).toBeLessThanOrEqual(1);
  });

  test('down, then back empty: reads go to the source, then the scripts are loaded again (NOSCRIPT) and the cache fills', async () => {
    const c = new CacheAside<Product>({
      redis,
      name: 'product',
      schemaVersion: 2,
      redisTimeoutMs: 50,
      redisRetryMs: 200,
      beta: 0,
    });
    const { calls, loader } = counted();
    await c.get('SKU-1', loader);
    await server.kill9();
    expect(await slowestOf(c, loader, 10)).toBeLessThan(1000);
    const down = calls.n;
    expect(down).toBeGreaterThan(1);
    await server.start(); // empty: no keys, no cached scripts
    await redis.ping();
    await sleep(300);
    await c.get('SKU-1', loader); // EVALSHA answers NOSCRIPT; EVAL runs and caches the script
    await c.get('SKU-1', loader);
    await c.get('SKU-1', loader);
    expect(calls.n - down).toBe(1);
    await redis.script('FLUSH'); // our own server: the shared one is never flushed
    await c.invalidate('SKU-1');
    await c.get('SKU-1', loader);
    await c.get('SKU-1', loader);
    expect(calls.n - down).toBe(2);
  });
});
