/**
 * `npm run bench:cache`: the kit cache (CacheAside) on the shared Redis.
 *
 * 1. Cold stampede: 3 child processes × BENCH_REQUESTS (500) concurrent reads of one cold key whose
 *    load takes 100 ms; prints the number of loads (the bound is 3: one per process) and the reads'
 *    latency.
 * 2. Warm hits: BENCH_HITS (20000) sequential reads of a cached key, p50/p99, against a bare HMGET
 *    of the same hash on the same client (what a hit costs over the Redis round trip).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CacheAside, createRedis } from '@aio/kit';
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '@aio/kit/testing';
import { coldStampede } from '../services/kit/test/fixtures/cache-stampede.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
const HITS = Number(process.env.BENCH_HITS ?? 20_000);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

const redis = createRedis(TEST_REDIS_URL);
const prefix = testRedisPrefix('bench_cache');
try {
  await redis.ping();
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${new Date().toISOString()}`,
  );

  const results = await coldStampede({
    redisUrl: TEST_REDIS_URL,
    prefix,
    key: 'SKU-COLD',
    processes: 3,
    requests: REQUESTS,
    loadMs: 100,
    child: join(process.cwd(), 'services/kit/test/fixtures/cache-stampede-child.mjs'),
  });
  const loads = Number(await redis.get(`${prefix}loads`));
  const cold = results.flatMap((r) => r.ms);
  const agree = results.every((r) => r.versions.length === 1);
  console.log(
    `cold stampede: 3 processes x ${REQUESTS} reads, load 100 ms: ${loads} load(s) (bound 3), all agree: ${agree}, read p50 ${fmt(percentile(cold, 50))} p99 ${fmt(percentile(cold, 99))}`,
  );

  const cache = new CacheAside<{ price: number }>({
    redis,
    name: 'product',
    schemaVersion: 1,
    prefix,
    beta: 0,
  });
  const loader = async () => ({ value: { price: 1999 }, version: 1 });
  await cache.get('SKU-WARM', loader);
  const entry = `${cache.keys.prefix}{SKU-WARM}`;
  const measure = async (read: () => Promise<unknown>) => {
    for (let i = 0; i < 1000; i++) await read(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < HITS; i++) {
      const started = performance.now();
      await read();
      ms.push(performance.now() - started);
    }
    return ms;
  };
  const hits = await measure(() => cache.get('SKU-WARM', loader));
  const bare = await measure(() => redis.hmget(entry, 'ver', 'val', 'neg', 'exp', 'delta', 'gen'));
  const [h50, h99, b50, b99] = [
    percentile(hits, 50),
    percentile(hits, 99),
    percentile(bare, 50),
    percentile(bare, 99),
  ];
  console.log(`warm hit (CacheAside.get), ${HITS} sequential: p50 ${fmt(h50)} p99 ${fmt(h99)}`);
  console.log(`bare HMGET of the entry, same client:       p50 ${fmt(b50)} p99 ${fmt(b99)}`);
  console.log(
    `hit over bare HMGET: p50 +${fmt(h50 - b50)} (x${(h50 / b50).toFixed(2)}), p99 +${fmt(h99 - b99)} (x${(h99 / b99).toFixed(2)})`,
  );
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await deleteRedisKeys(redis, prefix);
  await redis.quit();
}
