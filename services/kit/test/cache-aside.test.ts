import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CacheAside, CacheUnavailableError, createRedis, ServiceMetrics } from '../src/index.js';
import type { CacheAsideProps, CacheLoader, Redis, Versioned } from '../src/index.js';
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../src/testing/index.js';

interface Product {
  readonly price: number;
}

/** A source of truth: rows with a version bumped on every update, and a count of reads. */
class ProductTable {
  readonly rows = new Map<string, Versioned<Product>>();
  reads = 0;
  failing = false;

  update(sku: string, price: number): number {
    const version = (this.rows.get(sku)?.version ?? 0) + 1;
    this.rows.set(sku, { value: { price }, version });
    return version;
  }

  loader(delay = 0): CacheLoader<Product> {
    return async (sku) => {
      this.reads++;
      if (this.failing) throw new Error('catalog is down');
      const row = this.rows.get(sku) ?? null;
      if (delay) await sleep(delay);
      return row;
    };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: Redis;
const prefix = testRedisPrefix('cache_aside');

beforeAll(async () => {
  redis = createRedis(TEST_REDIS_URL);
  await redis.ping();
});
afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  await redis.quit();
});

function cache(props: Partial<CacheAsideProps> = {}, metrics?: ServiceMetrics) {
  return new CacheAside<Product>({
    redis,
    name: 'product',
    schemaVersion: 1,
    prefix: `${prefix}${Math.random().toString(36).slice(2, 8)}:`,
    // The shared machine is loaded; the 50 ms default would send some reads to the source (the
    // outage tests set it low on purpose).
    redisTimeoutMs: 2000,
    ...(metrics ? { metrics } : {}),
    ...props,
  });
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('CacheAside', () => {
  test('loads a cold key once, then serves it from Redis with its version, under a schema-versioned key', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const c = cache({ beta: 0 }, metrics);
    expect(await c.get('SKU-1', table.loader())).toEqual({ value: { price: 100 }, version: 1, stale: false });
    expect(await c.get('SKU-1', table.loader())).toEqual({ value: { price: 100 }, version: 1, stale: false });
    expect(table.reads).toBe(1);
    expect(await redis.exists(`${c.keys.prefix}{SKU-1}`)).toBe(1);
    expect(c.keys.prefix).toMatch(/cache:product:v1:$/);
    const v2 = new CacheAside<Product>({
      redis,
      name: 'product',
      schemaVersion: 2,
      prefix: c.keys.prefix.replace(/cache:product:v1:$/, ''),
    });
    await v2.get('SKU-1', table.loader());
    expect(table.reads).toBe(2); // a new schema version never reads the old shape
    const text = await metrics.text();
    expect(sample(text, 'aio_cache_hits_total{cache="product"}')).toBe(1);
    expect(sample(text, 'aio_cache_misses_total{cache="product"}')).toBe(1);
    expect(sample(text, 'aio_cache_loads_total{cache="product",reason="miss",outcome="ok"}')).toBe(1);
  });

  test('caches "not found" for negativeTtlMs only', async () => {
    const table = new ProductTable();
    const c = cache({ negativeTtlMs: 150, beta: 0 });
    expect(await c.get('SKU-404', table.loader())).toBeNull();
    expect(await c.get('SKU-404', table.loader())).toBeNull();
    expect(table.reads).toBe(1);
    table.update('SKU-404', 5);
    await sleep(200);
    expect(await c.get('SKU-404', table.loader())).toMatchObject({ value: { price: 5 }, version: 1 });
    expect(table.reads).toBe(2);
  });

  test('single-flight: 200 concurrent reads of a cold key in one process load it once', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const c = cache();
    const results = await Promise.all(Array.from({ length: 200 }, () => c.get('SKU-1', table.loader(50))));
    expect(table.reads).toBe(1);
    expect(new Set(results.map((r) => r?.version))).toEqual(new Set([1]));
  });

  test('an invalidation makes the next read load the new version at once', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const c = cache({ ttlMs: 60_000 });
    await c.get('SKU-1', table.loader());
    const version = table.update('SKU-1', 120);
    expect(await c.get('SKU-1', table.loader())).toMatchObject({ version: 1 }); // TTL not over
    expect(await c.invalidate('SKU-1', version)).toBe(true);
    expect(await c.get('SKU-1', table.loader())).toMatchObject({ value: { price: 120 }, version: 2 });
    // A replayed event for a version already cached purges nothing.
    expect(await c.invalidate('SKU-1', version)).toBe(false);
    expect(await c.get('SKU-1', table.loader())).toMatchObject({ version: 2 });
    expect(table.reads).toBe(2);
  });

  test('a value reaches readers within the TTL without any invalidation', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const c = cache({ ttlMs: 150, beta: 0 });
    await c.get('SKU-1', table.loader());
    table.update('SKU-1', 130);
    await sleep(200);
    expect(await c.get('SKU-1', table.loader())).toMatchObject({
      value: { price: 130 },
      version: 2,
      stale: false,
    });
  });

  test('rejects keys a hash tag cannot carry, and versions that are not integers', async () => {
    const c = cache();
    await expect(c.get('a{b}', async () => null)).rejects.toThrow(
      /cache key: must be 1 to 512 characters without braces or spaces, got "a\{b\}"/,
    );
    await expect(c.get('SKU-1', async () => ({ value: { price: 1 }, version: 1.5 }))).rejects.toThrow(
      /cache product: version of SKU-1 must be a non-negative integer, got 1.5/,
    );
    expect(() => new CacheAside({ redis, name: 'Product', schemaVersion: 1 })).toThrow(
      /cache name: must be lowercase/,
    );
    expect(() => new CacheAside({ redis, name: 'product', schemaVersion: 0 })).toThrow(
      /schemaVersion must be a positive integer, got 0/,
    );
  });
});

describe('CacheAside versioned writes (the stale-set race)', () => {
  /**
   * The race, with injected delays: a reader misses and reads v1, then stalls; a writer updates the
   * row to v2 and invalidates; the reader then writes what it read back into the cache.
   */
  async function race(invalidate: (c: CacheAside<Product>, version: number) => Promise<unknown>) {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const c = cache({ ttlMs: 60_000, beta: 0 });
    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    const slowReader = c.get('SKU-1', async () => {
      const row = table.rows.get('SKU-1')!; // reads v1
      readDone();
      await sleep(150); // stalls while the writer runs
      return row;
    });
    await read;
    const version = table.update('SKU-1', 90);
    await invalidate(c, version);
    expect(await slowReader).toMatchObject({ version: 1 }); // its own caller gets what it read
    return { c, table };
  }

  test('the race is real: a plain SET after the invalidation leaves v1 cached', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const key = `${prefix}naive:SKU-1`;
    const stale = table.rows.get('SKU-1')!; // the reader's read
    table.update('SKU-1', 90); // the writer's update
    await redis.del(key); // the writer's invalidation
    await redis.set(key, JSON.stringify(stale), 'PX', 60_000); // the reader's late write
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ version: 1 });
  });

  test('prevented with the version: the late v1 is refused, the next read loads v2', async () => {
    const { c, table } = await race((c, version) => c.invalidate('SKU-1', version));
    expect(await c.get('SKU-1', table.loader())).toMatchObject({ value: { price: 90 }, version: 2 });
  });

  test('prevented without a version: a load that read before the invalidation cannot write', async () => {
    const { c, table } = await race((c) => c.invalidate('SKU-1'));
    expect(await c.get('SKU-1', table.loader())).toMatchObject({ value: { price: 90 }, version: 2 });
  });

  test('a lower version never replaces a higher one', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const c = cache({ ttlMs: 100, beta: 0 }, metrics);
    await c.get('SKU-1', async () => ({ value: { price: 200 }, version: 7 }));
    await sleep(150);
    // An expired v7 and a loader (a lagging replica) that answers v6: v6 is served but not cached.
    expect(await c.get('SKU-1', async () => ({ value: { price: 100 }, version: 6 }))).toMatchObject({
      version: 6,
    });
    const fields = await redis.hmget(`${c.keys.prefix}{SKU-1}`, 'ver', 'val');
    expect(fields[0]).toBe('7');
    expect(JSON.parse(fields[1]!)).toEqual({ price: 200 });
    expect(sample(await metrics.text(), 'aio_cache_writes_refused_total{cache="product"}')).toBe(1);
  });
});

describe('CacheAside when the source fails', () => {
  test('serves the expired value within the grace period, then throws CacheUnavailableError', async () => {
    const table = new ProductTable();
    table.update('SKU-1', 100);
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const c = cache({ ttlMs: 100, negativeTtlMs: 50, graceMs: 300, leaseMs: 50, beta: 0 }, metrics);
    await c.get('SKU-1', table.loader());
    table.failing = true;
    await sleep(150);
    expect(await c.get('SKU-1', table.loader())).toEqual({ value: { price: 100 }, version: 1, stale: true });
    await sleep(600); // TTL + grace + lease over: the key is gone
    const failure = await c.get('SKU-1', table.loader()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CacheUnavailableError);
    expect(failure).toMatchObject({ cache: 'product', key: 'SKU-1', reason: 'error' });
    expect((failure as Error).message).toMatch(/cache product: no value for SKU-1: the source failed/);
    const text = await metrics.text();
    expect(sample(text, 'aio_cache_stale_served_total{cache="product",reason="error"}')).toBe(1);
    expect(sample(text, 'aio_cache_errors_total{cache="product",kind="unavailable"}')).toBe(1);
  });

  test('a source that never answers: the stale value after staleTimeoutMs, a timeout failure without one', async () => {
    const c = cache({ ttlMs: 100, staleTimeoutMs: 30, loadTimeoutMs: 2000, beta: 0 });
    await c.get('SKU-1', async () => ({ value: { price: 100 }, version: 1 }));
    await sleep(150);
    const hang: CacheLoader<Product> = (_key, { signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    const started = Date.now();
    expect(await c.get('SKU-1', hang)).toMatchObject({ version: 1, stale: true });
    // Served after staleTimeoutMs, long before the load timeout (2 s) would have ended the wait.
    expect(Date.now() - started).toBeLessThan(1000);
    const cold = c.get('SKU-2', hang).catch((e: unknown) => e);
    expect(await cold).toMatchObject({ name: 'CacheUnavailableError', reason: 'timeout' });
  });
});
