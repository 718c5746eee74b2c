import { createPool, migrate } from '@aio/kit';
import type { Pool } from '@aio/kit';
import { createTestDatabase } from '@aio/kit/testing';
import type { TestDatabase } from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { migrations } from '../src/migrations.js';
import { StockLedger } from '../src/stock-ledger.js';
import type { Transition } from '../src/stock-ledger.js';
import type { ReservationStatus } from '../src/stock-store.js';

let db: TestDatabase;
let pool: Pool;
let ledger: StockLedger;

beforeAll(async () => {
  db = await createTestDatabase('inventory_ledger');
  pool = createPool(db.url, { max: 16 });
  await migrate(pool, migrations);
  ledger = new StockLedger(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

type Row = [kind: string, sku: string, available: number, reserved: number, sold: number];

async function ledgerRows(orderId: string): Promise<Row[]> {
  const { rows } = await pool.query<{ kind: string; sku: string; da: number; dr: number; ds: number }>(
    `SELECT kind, sku, d_available AS da, d_reserved AS dr, d_sold AS ds
     FROM stock_ledger WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => [r.kind, r.sku, r.da, r.dr, r.ds]);
}

async function reservationRow(orderId: string) {
  const { rows } = await pool.query<{ status: string; reason: string | null; sku: string | null }>(
    'SELECT status, reason, sku FROM reservations WHERE order_id = $1',
    [orderId],
  );
  return rows[0];
}

const ITEMS = [
  { sku: 'X', quantity: 2 },
  { sku: 'Y', quantity: 3 },
];

function step(orderId: string, status: ReservationStatus, items = ITEMS): Transition {
  return { orderId, status, items, ...(status === 'RESERVED' ? { expiresAt: Date.now() + 60_000 } : {}) };
}

const RESERVE: Row[] = [
  ['RESERVE', 'X', -2, 2, 0],
  ['RESERVE', 'Y', -3, 3, 0],
];
const COMMIT: Row[] = [
  ['COMMIT', 'X', 0, -2, 2],
  ['COMMIT', 'Y', 0, -3, 3],
];
const RELEASE: Row[] = [
  ['RELEASE', 'X', 2, -2, 0],
  ['RELEASE', 'Y', 3, -3, 0],
];
const EXPIRE: Row[] = [
  ['EXPIRE', 'X', 2, -2, 0],
  ['EXPIRE', 'Y', 3, -3, 0],
];

describe('StockLedger.record', () => {
  const cases: Array<[name: string, steps: ReservationStatus[], rows: Row[], final: ReservationStatus]> = [
    ['NONE → RESERVED', ['RESERVED'], RESERVE, 'RESERVED'],
    ['RESERVED → COMMITTED', ['RESERVED', 'COMMITTED'], [...RESERVE, ...COMMIT], 'COMMITTED'],
    ['RESERVED → RELEASED', ['RESERVED', 'RELEASED'], [...RESERVE, ...RELEASE], 'RELEASED'],
    ['RESERVED → EXPIRED', ['RESERVED', 'EXPIRED'], [...RESERVE, ...EXPIRE], 'EXPIRED'],
    ['NONE → COMMITTED (the reserve write was lost)', ['COMMITTED'], [...RESERVE, ...COMMIT], 'COMMITTED'],
    ['NONE → RELEASED with items', ['RELEASED'], [...RESERVE, ...RELEASE], 'RELEASED'],
    ['NONE → EXPIRED', ['EXPIRED'], [...RESERVE, ...EXPIRE], 'EXPIRED'],
    ['RESERVED replayed', ['RESERVED', 'RESERVED'], RESERVE, 'RESERVED'],
    ['COMMITTED replayed', ['RESERVED', 'COMMITTED', 'COMMITTED'], [...RESERVE, ...COMMIT], 'COMMITTED'],
    [
      'COMMITTED → RELEASED is a no-op',
      ['RESERVED', 'COMMITTED', 'RELEASED'],
      [...RESERVE, ...COMMIT],
      'COMMITTED',
    ],
    [
      'RELEASED → COMMITTED is a no-op',
      ['RESERVED', 'RELEASED', 'COMMITTED'],
      [...RESERVE, ...RELEASE],
      'RELEASED',
    ],
    [
      'EXPIRED → COMMITTED is a no-op',
      ['RESERVED', 'EXPIRED', 'COMMITTED'],
      [...RESERVE, ...EXPIRE],
      'EXPIRED',
    ],
    [
      'a late RESERVED after COMMITTED is a no-op',
      ['COMMITTED', 'RESERVED'],
      [...RESERVE, ...COMMIT],
      'COMMITTED',
    ],
    ['REJECTED writes no entries', ['REJECTED'], [], 'REJECTED'],
    ['REJECTED → RESERVED is a no-op', ['REJECTED', 'RESERVED', 'COMMITTED'], [], 'REJECTED'],
  ];
  test.each(cases)('%s', async (name, steps, rows, final) => {
    const orderId = `t-${name.replace(/[^A-Za-z]+/g, '-')}`;
    for (const status of steps) await ledger.record(step(orderId, status));
    expect(await ledgerRows(orderId)).toEqual(rows);
    expect((await reservationRow(orderId))?.status).toBe(final);
  });

  test('a rejection keeps its reason and SKU; a tombstone writes no entries and refuses a late reserve', async () => {
    await ledger.record({ orderId: 'rej', status: 'REJECTED', items: ITEMS, sku: 'Y' });
    expect(await reservationRow('rej')).toEqual({
      status: 'REJECTED',
      reason: 'INSUFFICIENT_STOCK',
      sku: 'Y',
    });
    await ledger.record({ orderId: 'tomb', status: 'RELEASED', items: [] });
    await ledger.record(step('tomb', 'RESERVED'));
    expect(await ledgerRows('tomb')).toEqual([]);
    expect((await reservationRow('tomb'))?.status).toBe('RELEASED');
  });

  test('concurrent duplicates of reserve and commit append one RESERVE and one COMMIT per order', async () => {
    const orders = Array.from({ length: 40 }, (_, i) => `dup-${i}`);
    // Per order, 6 reserve and 6 commit copies alternating (every other order starts with a commit),
    // all sent together: the pool runs copies of one order on several connections at once, and a commit
    // may land before its reserve.
    const calls = orders.flatMap((orderId, i) =>
      Array.from({ length: 12 }, (_, k) => step(orderId, (k + i) % 2 ? 'COMMITTED' : 'RESERVED')),
    );
    await Promise.all(calls.map((t) => ledger.record(t)));
    const { rows } = await pool.query<{ order_id: string; kind: string; n: number }>(
      `SELECT order_id, kind, count(*)::int AS n FROM stock_ledger
       WHERE order_id LIKE 'dup-%' GROUP BY order_id, kind`,
    );
    for (const orderId of orders) {
      const counts = Object.fromEntries(rows.filter((r) => r.order_id === orderId).map((r) => [r.kind, r.n]));
      // One entry per item for each of the two kinds.
      expect(counts, orderId).toEqual({ RESERVE: 2, COMMIT: 2 });
      expect((await reservationRow(orderId))?.status).toBe('COMMITTED');
    }
    const sums = await pool.query<{ sku: string; a: number; r: number; s: number }>(
      `SELECT sku, sum(d_available)::int AS a, sum(d_reserved)::int AS r, sum(d_sold)::int AS s
       FROM stock_ledger WHERE order_id LIKE 'dup-%' GROUP BY sku ORDER BY sku`,
    );
    expect(sums.rows).toEqual([
      { sku: 'X', a: -80, r: 0, s: 80 },
      { sku: 'Y', a: -120, r: 0, s: 120 },
    ]);
  });

  test('concurrent commit and release of one reservation: one wins, with exactly its entries', async () => {
    const orders = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    for (const orderId of orders) await ledger.record(step(orderId, 'RESERVED'));
    await Promise.all(
      orders.flatMap((orderId) =>
        (['COMMITTED', 'RELEASED', 'EXPIRED', 'COMMITTED', 'RELEASED'] as const).map((s) =>
          ledger.record(step(orderId, s)),
        ),
      ),
    );
    for (const orderId of orders) {
      const final = (await reservationRow(orderId))!.status;
      const finish = { COMMITTED: COMMIT, RELEASED: RELEASE, EXPIRED: EXPIRE }[final];
      expect(finish, `${orderId} ended ${final}`).toBeDefined();
      expect(await ledgerRows(orderId)).toEqual([...RESERVE, ...finish!]);
    }
  });

  test('every record and adjust is one statement on the pool, with no client checked out', async () => {
    const counts = { query: 0, connect: 0 };
    const counting = new Proxy(pool, {
      get(target, prop, receiver) {
        if (prop === 'query' || prop === 'connect') {
          return (...args: unknown[]) => {
            counts[prop]++;
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const counted = new StockLedger(counting);
    await counted.adjust('Z', 10);
    await counted.adjust('Z', 0);
    await counted.record(step('count-1', 'RESERVED', [{ sku: 'Z', quantity: 4 }]));
    await counted.record(step('count-1', 'RESERVED', [{ sku: 'Z', quantity: 4 }]));
    await counted.record(step('count-1', 'COMMITTED', [{ sku: 'Z', quantity: 4 }]));
    await counted.record(step('count-1', 'COMMITTED', [{ sku: 'Z', quantity: 4 }]));
    expect(counts).toEqual({ query: 6, connect: 0 });
    // And the writes happened: the product exists once, the zero adjustment wrote no entry.
    expect(Object.fromEntries(await ledger.counters())).toMatchObject({
      Z: { available: 6, reserved: 0, sold: 4 },
    });
    expect((await pool.query("SELECT count(*)::int AS n FROM stock_ledger WHERE sku = 'Z'")).rows[0].n).toBe(
      3,
    );
  });
});
