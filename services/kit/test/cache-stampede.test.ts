import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../src/index.js';
import type { Redis } from '../src/index.js';
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../src/testing/index.js';
import { coldStampede } from './fixtures/cache-stampede.js';

let redis: Redis;
const prefix = testRedisPrefix('cache_stampede');

beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  await redis.quit();
});

describe('CacheAside under a cold stampede', () => {
  test('500 concurrent reads in each of 3 processes load a cold key at most 3 times, and all agree', async () => {
    const results = await coldStampede({
      redisUrl: TEST_REDIS_URL,
      prefix,
      key: 'SKU-HOT',
      processes: 3,
      requests: 500,
      loadMs: 100,
    });
    const loads = Number(await redis.get(`${prefix}loads`));
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(loads).toBeLessThanOrEqual(3);
    expect(results.map((r) => r.ms.length)).toEqual([500, 500, 500]);
    for (const r of results) expect(r.versions).toEqual(['3:1999']);
  });
});
