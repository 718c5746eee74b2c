import { parseConfig } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { callJson, createTestDatabase } from '@aio/kit/testing';
import type { TestDatabase } from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { catalogConfigSchema } from '../src/config.js';
import type { CatalogConfig } from '../src/config.js';
import { startCatalog } from '../src/service.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let db: TestDatabase;
let catalog: RunningService<CatalogConfig>;
const call = (method: string, path: string, body?: unknown) =>
  callJson<Json>(catalog.url, method, path, body);
const mug = { name: 'Mug', priceMinor: 950, currency: 'EUR' };

beforeAll(async () => {
  db = await createTestDatabase('catalog');
  const config = parseConfig(catalogConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: '4',
    FEED_POLL_MS: '20',
    // nothing listens: every product page here shows reviews unavailable (product-page.e2e.test.ts has review)
    REVIEW_URL: 'http://127.0.0.1:9',
  });
  catalog = await startCatalog(config, false);
}, 30_000);

afterAll(async () => {
  await catalog?.close();
  await db?.drop();
});

describe('catalog products', () => {
  test('creates a product at version 1, and every change bumps the version', async () => {
    const created = await call('PUT', '/products/MUG-1', mug);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      sku: 'MUG-1',
      name: 'Mug',
      priceMinor: 950,
      currency: 'EUR',
      version: 1,
    });
    const updated = await call('PUT', '/products/MUG-1', { ...mug, priceMinor: 990 });
    expect(updated).toMatchObject({ status: 200, body: { priceMinor: 990, version: 2 } });
    expect((await call('GET', '/products/MUG-1')).body).toMatchObject({ priceMinor: 990, version: 2 });
  });

  test('rejects a write at a stale expectedVersion with 409 naming the current one', async () => {
    await call('PUT', '/products/MUG-CAS', mug);
    const stale = await call('PUT', '/products/MUG-CAS', { ...mug, priceMinor: 1, expectedVersion: 0 });
    expect(stale.status).toBe(409);
    expect(stale.type).toContain('application/problem+json');
    expect(stale.body).toMatchObject({ sku: 'MUG-CAS', currentVersion: 1 });
    expect((await call('GET', '/products/MUG-CAS')).body.priceMinor).toBe(950);
    const fresh = await call('PUT', '/products/MUG-CAS', { ...mug, priceMinor: 1, expectedVersion: 1 });
    expect(fresh).toMatchObject({ status: 200, body: { priceMinor: 1, version: 2 } });
  });

  test('an unknown SKU is a 404 problem naming it', async () => {
    const res = await call('GET', '/products/NOPE-1');
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ sku: 'NOPE-1', detail: 'no product NOPE-1' });
  });

  test.each([
    [{ ...mug, currency: 'ZZZ' }, 'currency'],
    [{ ...mug, priceMinor: 9.5 }, 'priceMinor'],
    [{ ...mug, priceMinor: '950' }, 'priceMinor'],
    [{ ...mug, priceMinor: 0 }, 'priceMinor'],
    [{ ...mug, priceMinor: 1_000_000_001, currency: 'JPY' }, 'priceMinor'],
    [{ ...mug, name: '' }, 'name'],
    [{ ...mug, extra: 1 }, 'extra'],
  ])('rejects %j with a 400 naming %s', async (body, field) => {
    const res = await call('PUT', '/products/BAD-1', body);
    expect(res.status).toBe(400);
    expect(res.body['invalid-params'].map((p: Json) => p.name)).toContain(field);
    expect((await call('GET', '/products/BAD-1')).status).toBe(404);
  });
});

describe('catalog list', () => {
  test('pages through every product once, in SKU order, with the keyset cursor', async () => {
    const skus = Array.from({ length: 7 }, (_, i) => `PAGE-${String(i).padStart(2, '0')}`);
    for (const sku of skus) await call('PUT', `/products/${sku}`, { ...mug, name: sku });
    const seen: string[] = [];
    let after = 'PAGE-';
    for (let pages = 0; pages < 10; pages++) {
      const page = (await call('GET', `/products?limit=3&after=${after}`)).body;
      seen.push(...page.products.map((p: Json) => p.sku).filter((s: string) => s.startsWith('PAGE-')));
      if (!page.next || !page.next.startsWith('PAGE-')) break;
      after = page.next;
    }
    expect(seen).toEqual(skus);
  });
});

/**
 * The feed's events of the products whose SKU starts with `prefix`, read from the start until `count`
 * of them arrived. The kit's feed holds back committed events while an older transaction is open
 * anywhere on the (shared) server, so they may come a little later: the reads long-poll.
 */
async function eventsOf(prefix: string, count: number): Promise<Json[]> {
  const seen: Json[] = [];
  let after = '0';
  const deadline = Date.now() + 30_000;
  while (seen.length < count && Date.now() < deadline) {
    const page = (await call('GET', `/events?after=${after}&limit=1000&waitMs=1000`)).body;
    seen.push(...page.events.filter((e: Json) => String(e.aggregateId).startsWith(prefix)));
    after = page.next;
  }
  return seen;
}

describe('catalog change feed (the kit outbox)', () => {
  test('records one event per change, carrying the product, and none for an unchanged PUT', async () => {
    await call('PUT', '/products/FEED-1', mug);
    await call('PUT', '/products/FEED-1', mug); // unchanged
    await call('PUT', '/products/FEED-1', { ...mug, priceMinor: 1200 });
    await call('PUT', '/products/FEED-END', mug); // written last: once it is in, FEED-1's are too
    const events = (await eventsOf('FEED-', 3)).filter((e) => e.aggregateId === 'FEED-1');
    expect(
      events.map((e) => [e.type, e.aggregateType, e.aggregateId, e.sequence, e.payload.version]),
    ).toEqual([
      ['product.created', 'product', 'FEED-1', 1, 1],
      ['product.updated', 'product', 'FEED-1', 2, 2],
    ]);
    expect(events[1].payload).toMatchObject({ sku: 'FEED-1', priceMinor: 1200, currency: 'EUR' });
  });

  test('under concurrent writers every version is recorded once and the last one is what the catalog serves', async () => {
    const writes = Array.from({ length: 40 }, (_, i) =>
      call('PUT', `/products/RACE-${i % 4}`, { ...mug, priceMinor: 100 + i }),
    );
    expect((await Promise.all(writes)).every((r) => r.status === 200 || r.status === 201)).toBe(true);
    const events = await eventsOf('RACE-', 40);
    expect(events).toHaveLength(40);
    for (let k = 0; k < 4; k++) {
      const mine = events.filter((e) => e.aggregateId === `RACE-${k}`);
      const versions = mine.map((e) => e.payload.version).sort((a: number, b: number) => a - b);
      expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      const newest = mine.find((e) => e.payload.version === 10);
      expect((await call('GET', `/products/RACE-${k}`)).body).toMatchObject({
        version: 10,
        priceMinor: newest.payload.priceMinor,
      });
    }
  });

  test('concurrent writes at one expectedVersion: exactly one applies, the others get 409', async () => {
    await call('PUT', '/products/CAS-RACE', mug);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('PUT', '/products/CAS-RACE', { ...mug, priceMinor: 2000 + i, expectedVersion: 1 }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect((await call('GET', '/products/CAS-RACE')).body.version).toBe(2);
  });

  test('a long poll returns once a change commits', async () => {
    const waiting = eventsOf('POLL-', 1);
    await new Promise((r) => setTimeout(r, 100));
    await call('PUT', '/products/POLL-1', mug);
    expect(await waiting).toEqual([
      expect.objectContaining({ type: 'product.created', aggregateId: 'POLL-1', sequence: 1 }),
    ]);
  });
});

describe('catalog internal price read', () => {
  test('GET /prices/:sku answers the price and version only, and follows every change', async () => {
    await call('PUT', '/products/PRICE-R1', mug);
    expect((await call('GET', '/prices/PRICE-R1')).body).toEqual({
      sku: 'PRICE-R1',
      priceMinor: 950,
      currency: 'EUR',
      version: 1,
    });
    await call('PUT', '/products/PRICE-R1', { ...mug, priceMinor: 975 });
    expect((await call('GET', '/prices/PRICE-R1')).body).toEqual({
      sku: 'PRICE-R1',
      priceMinor: 975,
      currency: 'EUR',
      version: 2,
    });
  });

  test('an unknown SKU is a 404 problem naming it; a malformed one a 400', async () => {
    const res = await call('GET', '/prices/NOPE-2');
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ sku: 'NOPE-2' });
    expect((await call('GET', '/prices/bad%20sku')).status).toBe(400);
  });
});

describe('catalog contract', () => {
  test('marks the reads public and keeps the write, the price read and the feed internal', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.paths['/products/{sku}'].get['x-aio-public']).toBe(true);
    expect(doc.paths['/products'].get['x-aio-public']).toBe(true);
    expect(doc.paths['/products/{sku}'].put['x-aio-public']).toBeUndefined();
    expect(doc.paths['/events'].get['x-aio-public']).toBeUndefined();
    expect(doc.paths['/prices/{sku}'].get['x-aio-public']).toBeUndefined();
  });
});
