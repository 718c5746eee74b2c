import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CacheAside, createRedis, ServiceMetrics, shouldRefreshEarly } from '../src/index.js';
import type { Redis } from '../src/index.js';
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../src/testing/index.js';

describe('shouldRefreshEarly (XFetch)', () => {
  test('never long before the expiry, more likely as it nears and for slower loads, never with beta 0', () => {
    const exp = 10_000;
    const draws = Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000);
    const rate = (now: number, delta: number, beta = 1) =>
      draws.filter((r) => shouldRefreshEarly(now, exp, delta, beta, () => r)).length / draws.length;
    expect(rate(0, 10)).toBe(0);
    expect(rate(9_990, 10)).toBeGreaterThan(rate(9_900, 10));
    expect(rate(9_900, 100)).toBeGreaterThan(rate(9_900, 10));
    expect(rate(9_900, 10, 4)).toBeGreaterThan(rate(9_900, 10, 1));
    expect(rate(9_999, 1000, 0)).toBe(0);
    expect(rate(10_000, 10)).toBe(1); // at the expiry itself, always
  });
});

let redis: Redis;
const prefix = testRedisPrefix('cache_xfetch');
beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  await redis.quit();
});

describe('CacheAside early refresh', () => {
  test('a key read steadily is reloaded in the background before it expires: one miss only', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const c = new CacheAside<number>({
      redis,
      name: 'product',
      schemaVersion: 1,
      prefix,
      metrics,
      ttlMs: 300,
      beta: 3,
      redisTimeoutMs: 2000,
    });
    let version = 0;
    const loader = async () => {
      await new Promise((r) => setTimeout(r, 40));
      version++;
      return { value: version, version };
    };
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      await c.get('SKU-1', loader);
      await new Promise((r) => setTimeout(r, 10));
    }
    const text = await metrics.text();
    const value = (series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1] ?? 0,
      );
    expect(value('aio_cache_misses_total{cache="product"}')).toBe(1);
    expect(
      value('aio_cache_loads_total{cache="product",reason="early",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(2);
    expect((await c.get('SKU-1', loader))!.version).toBeGreaterThanOrEqual(3);
  });
});
