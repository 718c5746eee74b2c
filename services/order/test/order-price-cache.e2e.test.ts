import { createRedis, type Redis } from '@aio/kit';
import { startOwnRedisServer, TEST_REDIS_URL, type OwnRedisServer } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  addSku,
  call,
  priceEntryKey,
  signInWith,
  sleep,
  waitPriceInvalidated,
  type Json,
} from './order-client.js';

/**
 * Order prices read through the kit cache (Redis) in front of the catalog, invalidated from the
 * catalog's change feed: order, inventory, payment and catalog as real processes, the catalog behind
 * the stack's fault proxy (down, blackholed), Redis real (the shared one, and one of the test's own
 * that it blackholes and kills).
 */

let stack: Stack;
let redis: Redis;
let n = 0;

const orderUrl = () => stack.process('order').url;
const catalog = () => stack.process('catalog');

/** A fresh SKU with stock, priced `priceMinor` EUR cents (version 1). */
async function product(priceMinor = 950): Promise<string> {
  const sku = `CACHE-${++n}`;
  await addSku(stack, sku, 1000, { priceMinor, currency: 'EUR' });
  return sku;
}

async function reprice(sku: string, priceMinor: number): Promise<void> {
  const res = await call(`${catalog().url}/products/${sku}`, 'PUT', {
    name: sku,
    priceMinor,
    currency: 'EUR',
  });
  expect(res.status).toBe(200);
}

/** Places a one-line order; on 202 the stored line (the price and catalog version it used). */
async function order(sku: string, unitPrice?: number): Promise<{ status: number; body: Json; line?: Json }> {
  const res = await call(`${orderUrl()}/orders`, 'POST', {
    customerId: 'c-cache',
    currency: 'EUR',
    paymentToken: 'tok_visa',
    items: [{ sku, quantity: 1, ...(unitPrice === undefined ? {} : { unitPrice }) }],
  });
  if (res.status !== 202) return res;
  const stored = await call(`${orderUrl()}/orders/${res.body.orderId}`);
  return { ...res, line: stored.body.items[0] };
}

/** The sum of one of order's `aio_cache_*` counters for the price cache, from its `/metrics`. */
async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${orderUrl()}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes('cache="price"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  stack = await startStack({
    processes: ['order'],
    scope: StackScope.test('order_price_cache'),
    faults: ['catalog'],
    commonEnv: { DB_POOL_MAX: '4' },
    env: {
      inventory: { SWEEP_INTERVAL_MS: '200' },
      // a TTL far above what the feed takes, so a prompt new price can only come from the feed
      // (and a Redis timeout for a shared, loaded machine: production's is 50 ms)
      order: { CATALOG_TIMEOUT_MS: '2000', PRICE_CACHE_TTL_MS: '60000', PRICE_CACHE_REDIS_TIMEOUT_MS: '250' },
    },
  });
  signInWith(stack);
  redis = createRedis(TEST_REDIS_URL);
}, 90_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

describe('prices through the cache', () => {
  test('a warm price is read from Redis: ten orders, one catalog read', async () => {
    const sku = await product(950);
    const loads = await counter('aio_cache_loads_total');
    const hits = await counter('aio_cache_hits_total');
    for (let i = 0; i < 10; i++) {
      const res = await order(sku);
      expect(res.status).toBe(202);
      expect(res.line).toMatchObject({ unitPrice: 9.5, catalogVersion: 1 });
    }
    expect((await counter('aio_cache_loads_total')) - loads).toBe(1);
    expect((await counter('aio_cache_hits_total')) - hits).toBe(9);
    expect(await redis.hget(priceEntryKey(stack, sku), 'ver')).toBe('1');
  });

  test('a price change reaches new orders at once after the change feed invalidates it (TTL 60 s)', async () => {
    const sku = await product(950);
    expect((await order(sku)).line).toMatchObject({ unitPrice: 9.5, catalogVersion: 1 });
    await reprice(sku, 1100);
    const tookMs = await waitPriceInvalidated(stack, sku, 2);
    expect(tookMs).toBeLessThan(10_000); // the feed's long poll, far inside the 60 s TTL
    expect((await order(sku)).line).toMatchObject({ unitPrice: 11, catalogVersion: 2 });
    // the client price checked against the new price: the old one is refused
    expect((await order(sku, 9.5)).body).toMatchObject({ code: 'PRICE_MISMATCH' });
  });

  test('a client price below the cached catalog price is refused 409 with the current price', async () => {
    const sku = await product(950);
    expect((await order(sku)).status).toBe(202); // cached now
    const res = await order(sku, 9.49);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'PRICE_MISMATCH',
      prices: [{ line: 0, sku, expectedUnitPrice: 9.49, unitPrice: 9.5, catalogVersion: 1 }],
    });
  });

  test('"no such SKU" is cached briefly and still a 400 UNKNOWN_SKU; creating it ends that at once', async () => {
    const sku = `CACHE-NEW-${++n}`;
    const loads = await counter('aio_cache_loads_total');
    for (let i = 0; i < 3; i++) {
      const res = await order(sku);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'UNKNOWN_SKU', sku });
    }
    expect((await counter('aio_cache_loads_total')) - loads).toBe(1); // the others: the negative entry
    expect(await redis.hget(priceEntryKey(stack, sku), 'neg')).toBe('1');
    await addSku(stack, sku, 10, { priceMinor: 500, currency: 'EUR' });
    await waitPriceInvalidated(stack, sku, 1); // well inside the 5 s negative TTL
    expect((await order(sku)).line).toMatchObject({ unitPrice: 5, catalogVersion: 1 });
  });
});

describe('the TTL as the safety net', () => {
  test('without the feed, a price change reaches new orders within the TTL', async () => {
    const ttlMs = 2000;
    await stack.process('order').restart({ PRICE_CACHE_FEED: 'off', PRICE_CACHE_TTL_MS: String(ttlMs) });
    try {
      const sku = await product(950);
      const loadedAt = Date.now();
      expect((await order(sku)).line).toMatchObject({ unitPrice: 9.5 });
      await reprice(sku, 1200);
      // nothing invalidates it: the cached price stands until its TTL
      expect((await order(sku)).line).toMatchObject({ unitPrice: 9.5, catalogVersion: 1 });
      let line: Json;
      do {
        await sleep(200);
        line = (await order(sku)).line;
      } while (line.unitPrice !== 12 && Date.now() - loadedAt < ttlMs + 5000);
      expect(line).toMatchObject({ unitPrice: 12, catalogVersion: 2 });
      const reachedMs = Date.now() - loadedAt;
      expect(reachedMs).toBeGreaterThanOrEqual(ttlMs - 200); // not before (XFetch may refresh a little early)
      expect(reachedMs).toBeLessThan(ttlMs + 5000); // the TTL plus a loaded machine's slack
    } finally {
      await stack.process('order').restart();
    }
  });
});

describe.each([
  ['blackholed (accepts, never answers)', 'blackhole'],
  ['down (connections reset)', 'down'],
] as const)('catalog %s', (_, fault) => {
  test('orders are priced from the cache for the grace period, then get 503 CATALOG_UNAVAILABLE', async () => {
    // TTL 1 s, grace 3 s: the entry stands in until TTL + grace + the load lease (about 5 s)
    const ttlMs = 1000;
    const graceMs = 3000;
    await stack.process('order').restart({
      PRICE_CACHE_TTL_MS: String(ttlMs),
      PRICE_CACHE_GRACE_MS: String(graceMs),
      PRICE_CACHE_NEGATIVE_TTL_MS: '1000',
      CATALOG_TIMEOUT_MS: '500',
    });
    const sku = await product(950);
    try {
      const loadedAt = Date.now();
      expect((await order(sku)).line).toMatchObject({ unitPrice: 9.5, catalogVersion: 1 });
      if (fault === 'blackhole') stack.fault('catalog').set({ kind: 'blackhole' });
      else await catalog().stop();
      // past the TTL and within the grace period: the cached price, quickly (no wait on the catalog)
      const priced: number[] = [];
      for (const at of [ttlMs + 500, ttlMs + graceMs - 500]) {
        await sleep(Math.max(0, loadedAt + at - Date.now()));
        const t0 = Date.now();
        const res = await order(sku);
        expect(res.status).toBe(202);
        expect(res.line).toMatchObject({ unitPrice: 9.5, catalogVersion: 1 });
        priced.push(Date.now() - t0);
      }
      const stale = await counter('aio_cache_stale_served_total');
      expect(stale).toBeGreaterThanOrEqual(2);
      // then a clear failure, never a 5xx of another kind, and never a hang
      let res: { status: number; body: Json };
      do {
        await sleep(250);
        res = await order(sku);
      } while (res.status === 202 && Date.now() - loadedAt < 20_000);
      const failedAfterMs = Date.now() - loadedAt;
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
      expect(failedAfterMs).toBeGreaterThanOrEqual(ttlMs + graceMs);
      expect(failedAfterMs).toBeLessThan(20_000);
    } finally {
      stack.fault('catalog').set(undefined);
      if (fault === 'down') await catalog().start();
      await stack.process('order').restart();
    }
    // the catalog is back: priced again
    expect((await order(sku)).status).toBe(202);
  });
});

describe('Redis down', () => {
  let own: OwnRedisServer;

  beforeAll(async () => {
    own = await startOwnRedisServer();
    await stack.process('order').restart({ REDIS_URL: own.url });
  }, 30_000);

  afterAll(async () => {
    await stack.process('order').restart();
    await own?.stop();
  });

  test('orders are still priced, from the catalog, blackholed then killed, and cached again once it is back', async () => {
    const sku = await product(950);
    expect((await order(sku)).line).toMatchObject({ unitPrice: 9.5 });
    const loads = await counter('aio_cache_loads_total');
    expect((await order(sku)).status).toBe(202);
    expect(await counter('aio_cache_loads_total')).toBe(loads); // warm: a hit

    own.pause(); // SIGSTOP: connections accepted, nothing answered
    try {
      await reprice(sku, 1300); // the feed cannot invalidate it: Redis is what is down
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const res = await order(sku);
        expect(res.status).toBe(202);
        // from the catalog: the current price, not the (unreachable) cached one
        expect(res.line).toMatchObject({ unitPrice: 13, catalogVersion: 2 });
        expect(Date.now() - t0).toBeLessThan(3000); // slower by at most the Redis timeout, never a hang
      }
    } finally {
      own.resume();
    }
    await own.kill9(); // gone: connection refused
    await reprice(sku, 1400);
    const res = await order(sku);
    expect(res.status).toBe(202);
    expect(res.line).toMatchObject({ unitPrice: 14, catalogVersion: 3 });
    expect(await counter('aio_cache_loads_total')).toBeGreaterThan(loads); // each from the source

    await own.start(); // back, empty: the feed is replayed from its start, prices cached again
    let cached = false;
    for (let i = 0; i < 50 && !cached; i++) {
      await sleep(200);
      expect((await order(sku)).line).toMatchObject({ unitPrice: 14 });
      const own2 = createRedis(own.url);
      try {
        cached = (await own2.hget(priceEntryKey(stack, sku), 'ver')) === '3';
      } finally {
        own2.disconnect();
      }
    }
    expect(cached).toBe(true);
  });
});
