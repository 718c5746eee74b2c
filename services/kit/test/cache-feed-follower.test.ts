import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  aggregateVersionTarget,
  CacheAside,
  CacheFeedFollower,
  createLogger,
  createRedis,
  createServer,
  OUTBOX_SCHEMA_SQL,
  recordEvents,
  ServiceMetrics,
  serveEventFeed,
} from '../src/index.js';
import type { CacheFeedFollowerProps, CacheLoader, Redis, Versioned } from '../src/index.js';
import {
  createTestDatabase,
  deleteRedisKeys,
  TEST_REDIS_URL,
  testRedisPrefix,
  type TestDatabase,
} from '../src/testing/index.js';

/**
 * The cache's feed follower against a real producer: the kit outbox in Postgres served by
 * `serveEventFeed` over HTTP, the cache in the shared Redis under the test's own prefix.
 */

interface Price {
  readonly minor: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prefix = testRedisPrefix('cache_feed');
const logger = createLogger({ name: 'cache-feed-test', level: 'silent' });

let db: TestDatabase;
let pool: pg.Pool;
let app: FastifyInstance;
let url: string;
let redis: Redis;
let n = 0;

/** The source of truth: rows with versions; each write records its event, as the catalog does. */
const rows = new Map<string, Versioned<Price>>();
async function write(sku: string, minor: number): Promise<number> {
  const version = (rows.get(sku)?.version ?? 0) + 1;
  rows.set(sku, { value: { minor }, version });
  await recordEvents(pool, [
    { aggregateType: 'product', aggregateId: sku, type: 'product.updated', payload: { sku, minor, version } },
  ]);
  return version;
}
const loader: CacheLoader<Price> = async (sku) => rows.get(sku) ?? null;

function setup(label: string) {
  const cache = new CacheAside<Price>({
    redis,
    name: 'price',
    schemaVersion: 1,
    prefix: `${prefix}${label}:`,
    ttlMs: 60_000,
    redisTimeoutMs: 2000, // the shared machine is loaded
  });
  /** A follower of the test's producer into `cache`; `more` replaces any of its settings. */
  const follower = (more: Partial<CacheFeedFollowerProps> = {}) =>
    new CacheFeedFollower({
      cache,
      redis,
      source: 'catalog',
      url,
      target: aggregateVersionTarget('product'),
      waitMs: 300,
      retryMs: 50,
      redisTimeoutMs: 2000,
      logger,
      ...more,
    });
  return { cache, follower };
}

/** Steps `f` until the feed is drained (one empty page). */
async function drain(f: CacheFeedFollower): Promise<void> {
  while ((await f.step(0)) > 0);
}

beforeAll(async () => {
  db = await createTestDatabase('cache_feed');
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
  pool.on('error', () => undefined);
  await pool.query(OUTBOX_SCHEMA_SQL);
  app = createServer({ logger, name: 'producer' });
  serveEventFeed({ app, pool, logger, onClose: () => undefined }, { pollMs: 20 });
  url = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
  redis = createRedis(TEST_REDIS_URL);
  await redis.ping();
}, 30_000);

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
  await deleteRedisKeys(redis, prefix);
  await redis?.quit();
});

describe('CacheFeedFollower', () => {
  test('a change on the feed invalidates the cached value at once; the next read loads the new one', async () => {
    const { cache, follower } = setup(`a${++n}`);
    const sku = `SKU-${n}`;
    await write(sku, 950);
    expect(await cache.get(sku, loader)).toMatchObject({ value: { minor: 950 }, version: 1 });
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const f = follower({ metrics });
    f.start();
    try {
      await write(sku, 1100);
      const deadline = Date.now() + 10_000;
      let seen = 0;
      while (seen !== 1100 && Date.now() < deadline) {
        await sleep(20);
        seen = (await cache.get(sku, loader))!.value.minor;
      }
      expect(seen).toBe(1100); // long before the 60 s TTL
      expect(await metrics.registry.metrics()).toMatch(
        /aio_cache_feed_events_total\{cache="price",source="catalog"\} \d/,
      );
    } finally {
      await f.stop();
    }
  });

  test('the cursor is kept in Redis and shared: a second follower does not replay, a lost cursor replays harmlessly', async () => {
    const { cache, follower } = setup(`b${++n}`);
    const sku = `SKU-${n}`;
    await write(sku, 100);
    const first = follower();
    await drain(first);
    const cursor = await redis.get(first.cursorKey);
    expect(cursor).toMatch(/^\d+\.\d+$/);
    expect(await follower().step(0)).toBe(0); // a new replica starts at the shared cursor
    // a newer value cached, then the cursor lost (a Redis that lost some keys): the replay from the
    // start invalidates by version and drops nothing newer
    await write(sku, 200);
    await drain(first);
    expect(await cache.get(sku, loader)).toMatchObject({ value: { minor: 200 }, version: 2 });
    await redis.del(first.cursorKey);
    const replayed = follower();
    let events = 0;
    for (let k; (k = await replayed.step(0)) > 0;) events += k;
    expect(events).toBeGreaterThanOrEqual(2);
    expect(await cache.get(sku, loader)).toMatchObject({ value: { minor: 200 }, version: 2, stale: false });
  });

  test('the producer down: the step throws, the cursor stays, and the follower catches up once it is back', async () => {
    const { cache, follower } = setup(`d${++n}`);
    const sku = `SKU-${n}`;
    await write(sku, 10);
    const f = follower();
    await drain(f);
    const at = await redis.get(f.cursorKey);
    expect(await cache.get(sku, loader)).toMatchObject({ version: 1 });
    const dead = follower({ url: 'http://127.0.0.1:9', waitMs: 0 }); // nothing listens
    await expect(dead.step(0)).rejects.toThrow();
    expect(await redis.get(f.cursorKey)).toBe(at);
    await write(sku, 20);
    await drain(f);
    expect(await cache.get(sku, loader)).toMatchObject({ value: { minor: 20 }, version: 2 });
  });

  test('events of other aggregates invalidate nothing; a payload without a version still invalidates', async () => {
    const target = aggregateVersionTarget('product');
    const base = { id: 'x', cursor: '1.1', sequence: 1, schemaVersion: 1, occurredAt: '' };
    expect(
      target({ ...base, aggregateType: 'order', aggregateId: 'o1', type: 'order.placed', payload: {} }),
    ).toBe(undefined);
    expect(
      target({
        ...base,
        aggregateType: 'product',
        aggregateId: 'p1',
        type: 'product.updated',
        payload: { version: 3 },
      }),
    ).toEqual({ key: 'p1', version: 3 });
    expect(
      target({
        ...base,
        aggregateType: 'product',
        aggregateId: 'p1',
        type: 'product.updated',
        payload: { version: '3' },
      }),
    ).toEqual({ key: 'p1' });
  });
});
