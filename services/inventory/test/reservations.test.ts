import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reconcile } from '../src/reconcile.js';
import { sweepExpired } from '../src/sweeper.js';
import { StockStore } from '../src/stock-store.js';
import { startHarness } from './harness.js';
import type { InventoryHarness } from './harness.js';

let h: InventoryHarness;
const SKUS = ['A', 'B', 'C'];

beforeAll(async () => {
  h = await startHarness('inventory');
});

afterAll(async () => {
  await h?.stop();
});

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

async function waitUntilReady(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await h.call('GET', '/readyz')).status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('inventory did not become ready again within 10 s');
}

async function setStock(sku: string, available: number): Promise<void> {
  expect((await h.call('PUT', `/stock/${sku}`, { available })).status).toBe(200);
}

describe('POST /reservations under load', () => {
  test('reserves exactly the stock, never below zero, and duplicates get the same outcome', async () => {
    for (const sku of SKUS) await setStock(sku, 100);
    // 1,600 orders over 1–3 SKUs, plus 400 duplicates of some of them, all at once.
    const subsets = [['A'], ['B'], ['C'], ['A', 'B'], ['B', 'C'], ['A', 'C'], ['A', 'B', 'C']];
    const orders = Array.from({ length: 1600 }, (_, i) => ({
      orderId: `load-${i}`,
      items: subsets[i % subsets.length]!.map((sku) => ({ sku, quantity: 1 })),
    }));
    const requests = [...orders, ...orders.filter((_, i) => i % 4 === 0)];
    // Four connections, like four replicas, each pipelining its share: the scripts interleave in Redis.
    const stores = [
      h.store,
      ...[1, 2, 3].map(() => new StockStore({ redis: h.redis.duplicate(), prefix: h.prefix })),
    ];
    const outcomes = await Promise.all(requests.map((o, i) => stores[i % 4]!.reserve(o.orderId, o.items)));
    await Promise.all(stores.slice(1).map((s) => s.redis.quit()));
    // The same durable write the route makes after the script, at a concurrency the pool can serve.
    await inBatches([...outcomes.entries()], 50, ([i, o]) =>
      h.ledger.record({ orderId: requests[i]!.orderId, ...o }),
    );
    const results = outcomes.map((o, i) => ({
      status: o.status === 'RESERVED' ? 201 : 409,
      body: { orderId: requests[i]!.orderId, ...o, fresh: undefined },
    }));

    const byOrder = new Map<string, { orderId: string; status: string | number }>();
    for (const r of results) {
      expect([201, 409]).toContain(r.status);
      const seen = byOrder.get(r.body.orderId);
      if (seen) expect(r.body).toEqual(seen);
      else byOrder.set(r.body.orderId, r.body);
    }
    // A second wave of single-SKU orders drains whatever multi-SKU rejections left behind.
    const wave = SKUS.flatMap((sku) =>
      Array.from({ length: 110 }, (_, i) => ({
        orderId: `drain-${sku}-${i}`,
        items: [{ sku, quantity: 1 }],
      })),
    );
    const waveResults = await inBatches(wave, 32, (o) => h.call('POST', '/reservations', o));

    for (const sku of SKUS) {
      const reservedByOutcome =
        [...byOrder.values()].filter(
          (b) =>
            b.status === 'RESERVED' &&
            orders.find((o) => o.orderId === b.orderId)!.items.some((i) => i.sku === sku),
        ).length +
        waveResults.filter((r) => r.status === 201 && r.body.orderId.startsWith(`drain-${sku}-`)).length;
      const levels = (await h.call('GET', `/stock/${sku}`)).body;
      expect(levels).toEqual({ sku, available: 0, reserved: 100, sold: 0 });
      expect(reservedByOutcome).toBe(100);
    }
    // The Postgres ledger agrees with Redis to the unit.
    expect((await reconcile(h.store, h.service.pool, { dryRun: true })).drift).toEqual([]);
  });
});

describe('reservation lifecycle', () => {
  test('commits once, refuses release after commit, and replays', async () => {
    await setStock('L1', 5);
    expect(
      (await h.call('POST', '/reservations', { orderId: 'life-1', items: [{ sku: 'L1', quantity: 2 }] }))
        .status,
    ).toBe(201);
    const commits = await Promise.all([1, 2, 3].map(() => h.call('POST', '/reservations/life-1/commit')));
    for (const c of commits) expect(c).toMatchObject({ status: 200, body: { status: 'COMMITTED' } });
    expect((await h.call('GET', '/stock/L1')).body).toEqual({
      sku: 'L1',
      available: 3,
      reserved: 0,
      sold: 2,
    });
    expect(await h.call('POST', '/reservations/life-1/release')).toMatchObject({
      status: 409,
      body: { status: 'COMMITTED' },
    });
    expect((await h.call('GET', '/reservations/life-1')).body).toMatchObject({
      status: 'COMMITTED',
      items: [{ sku: 'L1', quantity: 2 }],
    });
  });

  test('replay rule: the same orderId and items get the first outcome, other items 422 and no change', async () => {
    await setStock('RP1', 5);
    await setStock('RP2', 5);
    const first = await h.call('POST', '/reservations', {
      orderId: 'replay-1',
      items: [
        { sku: 'RP1', quantity: 2 },
        { sku: 'RP2', quantity: 1 },
      ],
    });
    expect(first.status).toBe(201);
    // the same request: lines in another order, or one SKU split over two lines, merge to the same items
    const same = await h.call('POST', '/reservations', {
      orderId: 'replay-1',
      items: [
        { sku: 'RP2', quantity: 1 },
        { sku: 'RP1', quantity: 1 },
        { sku: 'RP1', quantity: 1 },
      ],
    });
    expect(same).toMatchObject({
      status: 201,
      body: { status: 'RESERVED', expiresAt: first.body.expiresAt },
    });
    for (const items of [
      [{ sku: 'RP1', quantity: 3 }],
      [
        { sku: 'RP1', quantity: 2 },
        { sku: 'RP2', quantity: 2 },
      ],
      [{ sku: 'RP2', quantity: 1 }],
    ]) {
      const other = await h.call('POST', '/reservations', { orderId: 'replay-1', items });
      expect(other.status).toBe(422);
      expect(other.type).toMatch(/^application\/problem\+json/);
      expect(String(other.body.detail)).toContain('replay-1');
    }
    expect((await h.call('GET', '/stock/RP1')).body).toMatchObject({ available: 3, reserved: 2 });
    expect((await h.call('GET', '/stock/RP2')).body).toMatchObject({ available: 4, reserved: 1 });
    // a rejected first outcome is kept the same way: the same request is rejected again, another is 422
    const short = { orderId: 'replay-2', items: [{ sku: 'RP1', quantity: 50 }] };
    expect((await h.call('POST', '/reservations', short)).status).toBe(409);
    expect((await h.call('POST', '/reservations', short)).body).toMatchObject({
      reason: 'INSUFFICIENT_STOCK',
    });
    const smaller = { orderId: 'replay-2', items: [{ sku: 'RP1', quantity: 1 }] };
    expect((await h.call('POST', '/reservations', smaller)).status).toBe(422);
    expect((await h.call('GET', '/stock/RP1')).body).toMatchObject({ available: 3, reserved: 2 });
    expect((await h.call('GET', '/reservations/replay-1')).body.items).toEqual([
      { sku: 'RP1', quantity: 2 },
      { sku: 'RP2', quantity: 1 },
    ]);
  });

  test('releases an unknown reservation as a no-op and refuses a late reserve for it', async () => {
    await setStock('L2', 5);
    expect(await h.call('POST', '/reservations/late-1/release')).toMatchObject({
      status: 200,
      body: { status: 'RELEASED' },
    });
    const late = await h.call('POST', '/reservations', {
      orderId: 'late-1',
      items: [{ sku: 'L2', quantity: 1 }],
    });
    expect(late).toMatchObject({ status: 409, body: { status: 'RELEASED' } });
    // The replay reports the tombstone's items (none), not the late call's.
    expect(await h.store.reserve('late-1', [{ sku: 'L2', quantity: 1 }])).toMatchObject({
      status: 'RELEASED',
      fresh: false,
      items: [],
    });
    expect((await h.call('GET', '/stock/L2')).body.available).toBe(5);
  });

  test('PUT /stock answers the levels it left, keeping reserved and sold, and the ledger agrees', async () => {
    expect((await h.call('PUT', '/stock/P1', { available: 5 })).body).toEqual({
      sku: 'P1',
      available: 5,
      reserved: 0,
      sold: 0,
    });
    await h.call('POST', '/reservations', { orderId: 'put-1', items: [{ sku: 'P1', quantity: 2 }] });
    await h.call('POST', '/reservations/put-1/commit');
    await h.call('POST', '/reservations', { orderId: 'put-2', items: [{ sku: 'P1', quantity: 1 }] });
    const expected = { sku: 'P1', available: 10, reserved: 1, sold: 2 };
    expect((await h.call('PUT', '/stock/P1', { available: 10 })).body).toEqual(expected);
    expect((await h.call('GET', '/stock/P1')).body).toEqual(expected);
    expect((await h.call('PUT', '/stock/P1', { available: 10 })).body).toEqual(expected);
    const { drift } = await reconcile(h.store, h.service.pool, { dryRun: true });
    expect(drift.filter((d) => d.sku === 'P1')).toEqual([]);
  });

  test('rejects commit of an unknown reservation with 404', async () => {
    const res = await h.call('POST', '/reservations/nobody/commit');
    expect(res.status).toBe(404);
    expect(res.type).toMatch(/problem\+json/);
  });

  test('rejects bad bodies with problem+json naming the field', async () => {
    const res = await h.call('POST', '/reservations', { orderId: 'bad', items: [{ sku: 'A', quantity: 0 }] });
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body['invalid-params'][0]?.name).toBe('items[0].quantity');
    const noItems = await h.call('POST', '/reservations', { orderId: 'bad' });
    expect(noItems.body['invalid-params'][0]?.name).toBe('items');
    const stock = await h.call('PUT', '/stock/A', { available: -1 });
    expect(stock.body['invalid-params'][0]?.name).toBe('available');
  });
});

describe('expiry', () => {
  test('two sweepers return expired stock exactly once, and commit then fails with 409', async () => {
    await setStock('E1', 50);
    await setStock('E2', 50);
    const ids = Array.from({ length: 30 }, (_, i) => `exp-${i}`);
    for (const id of ids) {
      const outcome = await h.store.reserve(
        id,
        [
          { sku: 'E1', quantity: 1 },
          { sku: 'E2', quantity: 1 },
        ],
        20,
      );
      await h.ledger.record({ orderId: id, status: outcome.status, items: outcome.items });
    }
    expect(await h.store.levels('E1')).toEqual({ available: 20, reserved: 30, sold: 0 });
    await new Promise((r) => setTimeout(r, 60));
    // Two sweepers with their own connections, like two replicas.
    const other = new StockStore({ redis: h.redis.duplicate(), prefix: h.prefix });
    const counts = await Promise.all([sweepExpired(h.store, h.ledger, 7), sweepExpired(other, h.ledger, 7)]);
    await other.redis.quit();
    expect(counts[0]! + counts[1]!).toBe(30);
    expect(await sweepExpired(h.store, h.ledger)).toBe(0);
    expect(await h.store.levels('E1')).toEqual({ available: 50, reserved: 0, sold: 0 });
    expect(await h.store.levels('E2')).toEqual({ available: 50, reserved: 0, sold: 0 });
    expect(await h.call('POST', '/reservations/exp-0/commit')).toMatchObject({
      status: 409,
      body: { status: 'EXPIRED' },
    });
    const entries = await h.service.pool.query(
      "SELECT count(*)::int AS n FROM stock_ledger WHERE kind = 'EXPIRE'",
    );
    expect(entries.rows[0].n).toBe(60);
    expect((await reconcile(h.store, h.service.pool, { dryRun: true })).drift).toEqual([]);
  });

  test('commit past the deadline expires the reservation itself when no sweeper ran', async () => {
    await setStock('E3', 5);
    await h.store.reserve('exp-late', [{ sku: 'E3', quantity: 2 }], 10);
    await new Promise((r) => setTimeout(r, 30));
    expect(await h.call('POST', '/reservations/exp-late/commit')).toMatchObject({
      status: 409,
      body: { status: 'EXPIRED' },
    });
    expect(await h.store.levels('E3')).toEqual({ available: 5, reserved: 0, sold: 0 });
  });
});

describe('Redis failures', () => {
  test('calls keep working after SCRIPT FLUSH empties the script cache', async () => {
    await setStock('S1', 10);
    await h.redis.script('FLUSH');
    const res = await h.call('POST', '/reservations', {
      orderId: 'flush-1',
      items: [{ sku: 'S1', quantity: 1 }],
    });
    expect(res.status).toBe(201);
    await h.redis.script('FLUSH');
    expect((await h.call('POST', '/reservations/flush-1/commit')).status).toBe(200);
    expect(await h.store.levels('S1')).toEqual({ available: 9, reserved: 0, sold: 1 });
  });

  test('rebuilds exact counters and live reservations by itself after its keys are lost', async () => {
    await setStock('R1', 10);
    await h.call('POST', '/reservations', { orderId: 'loss-1', items: [{ sku: 'R1', quantity: 3 }] });
    await h.call('POST', '/reservations', { orderId: 'loss-2', items: [{ sku: 'R1', quantity: 2 }] });
    await h.call('POST', '/reservations/loss-2/commit');
    const before = new Map<string, unknown>();
    for (const sku of [...SKUS, 'R1', 'E1', 'L1', 'S1']) before.set(sku, await h.store.levels(sku));

    // FLUSHDB for our prefix only: the Redis database is shared with other suites.
    const keys = await h.redis.keys(`${h.prefix}*`);
    await h.redis.unlink(...keys);
    // Until the rebuild, nothing is answered from the empty Redis: no 404, no INSUFFICIENT_STOCK.
    const early = await h.call('POST', '/reservations', {
      orderId: 'loss-3',
      items: [{ sku: 'R1', quantity: 1 }],
    });
    expect([201, 503]).toContain(early.status);
    await waitUntilReady();
    for (const [sku, levels] of before) {
      const expected = sku === 'R1' && early.status === 201 ? { available: 4, reserved: 4, sold: 5 } : levels;
      expect(await h.store.levels(sku)).toEqual(expected);
    }
    expect((await reconcile(h.store, h.service.pool, { dryRun: true })).drift).toEqual([]);
    // The live reservation came back with its deadline, and replays stay idempotent.
    expect((await h.call('POST', '/reservations/loss-1/commit')).status).toBe(200);
    expect(
      (await h.call('POST', '/reservations', { orderId: 'loss-2', items: [{ sku: 'R1', quantity: 2 }] })).body
        .status,
    ).toBe('COMMITTED');
    await h.call('POST', '/reservations/loss-3/release');
    expect(await h.store.levels('R1')).toEqual({ available: 5, reserved: 0, sold: 5 });
  });

  test('a release whose Redis record is gone takes its items from Postgres, so the ledger balances', async () => {
    await setStock('G1', 10);
    await h.call('POST', '/reservations', { orderId: 'gone-1', items: [{ sku: 'G1', quantity: 4 }] });
    // A failover that dropped this one record (the epoch and the counters survived).
    await h.redis.unlink(h.store.reservationKey('gone-1'));
    const res = await h.call('POST', '/reservations/gone-1/release');
    expect(res.body).toMatchObject({ status: 'RELEASED' });
    expect(await h.store.levels('G1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect((await h.ledger.counters()).get('G1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await h.ledger.orphanedReservations()).toEqual([]);
  });

  test('a reserve retried after Redis lost its record replays the durable one and holds the units once', async () => {
    await setStock('G2', 10);
    const first = await h.call('POST', '/reservations', {
      orderId: 'gone-2',
      items: [{ sku: 'G2', quantity: 3 }],
    });
    expect(first.status).toBe(201);
    await h.redis.unlink(h.store.reservationKey('gone-2'));
    const retry = await h.call('POST', '/reservations', {
      orderId: 'gone-2',
      items: [{ sku: 'G2', quantity: 3 }],
    });
    expect(retry.status).toBe(201);
    expect(retry.body.expiresAt).toBe(first.body.expiresAt);
    expect(await h.store.levels('G2')).toEqual({ available: 7, reserved: 3, sold: 0 });
    expect((await h.ledger.counters()).get('G2')).toEqual({ available: 7, reserved: 3, sold: 0 });
    expect((await h.call('POST', '/reservations/gone-2/commit')).status).toBe(200);
    expect(await h.store.levels('G2')).toEqual({ available: 7, reserved: 0, sold: 3 });
    expect((await h.ledger.counters()).get('G2')).toEqual({ available: 7, reserved: 0, sold: 3 });
  });

  test('reconcile reports and closes units reserved with no live reservation behind them', async () => {
    await setStock('O1', 10);
    // What versions before migration 003 left: a RESERVE entry whose reservation was released without
    // its RELEASE entry (a release that found no record in Redis).
    await h.service.pool.query(
      `INSERT INTO reservations (order_id, status, items) VALUES ('orphan-1', 'RELEASED', '[{"sku":"O1","quantity":6}]');
       INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold) VALUES ('O1', 'orphan-1', 'RESERVE', -6, 6, 0)`,
    );
    const dry = await reconcile(h.store, h.service.pool, { dryRun: true });
    expect(dry.orphanedReservations).toEqual([
      { orderId: 'orphan-1', status: 'RELEASED', sku: 'O1', reserved: 6 },
    ]);
    expect(dry.drift).toContainEqual({
      sku: 'O1',
      expected: { available: 4, reserved: 6, sold: 0 },
      actual: { available: 10, reserved: 0, sold: 0 },
    });
    const fixed = await reconcile(h.store, h.service.pool);
    expect(fixed.orphanedReservations).toHaveLength(1);
    expect((await h.ledger.counters()).get('O1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await h.store.levels('O1')).toEqual({ available: 10, reserved: 0, sold: 0 });
    const again = await reconcile(h.store, h.service.pool, { dryRun: true });
    expect(again.orphanedReservations).toEqual([]);
    expect(again.drift).toEqual([]);
  });

  test('the reconcile CLI reports drift with exit 3, repairs it, then exits 0', async () => {
    await setStock('CLI1', 7);
    await h.redis.hset(h.store.skuKey('CLI1'), 'available', 999);
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [fileURLToPath(new URL('../dist/main.js', import.meta.url)), 'reconcile', ...args],
        {
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: h.db.url,
            REDIS_URL: h.service.config.REDIS_URL,
            REDIS_KEY_PREFIX: h.prefix,
          },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
    const dry = cli('--dry-run');
    expect(dry.status, dry.stderr).toBe(3);
    expect(JSON.parse(dry.stdout).drift).toEqual([
      {
        sku: 'CLI1',
        expected: { available: 7, reserved: 0, sold: 0 },
        actual: { available: 999, reserved: 0, sold: 0 },
      },
    ]);
    expect(await h.store.levels('CLI1')).toMatchObject({ available: 999 });
    expect(cli().status).toBe(3);
    expect(await h.store.levels('CLI1')).toEqual({ available: 7, reserved: 0, sold: 0 });
    expect(cli('--dry-run').status).toBe(0);
  });
});
