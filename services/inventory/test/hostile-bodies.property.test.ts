import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  body,
  CASES,
  casesRun,
  expectNoServerError,
  field,
  hostile,
  isProblem,
  send,
} from '../../kit/test/hostile-input.js';
import type { StockLevels } from '../src/stock-store.js';
import { startHarness } from './harness.js';
import type { InventoryHarness } from './harness.js';

/**
 * Every endpoint's body, valid and hostile: each case gets a 4xx problem+json and changes nothing,
 * or succeeds with its invariants (the counters move exactly as the outcome says, units are conserved).
 */

let h: InventoryHarness;
const POOL = ['PB-1', 'PB-2', 'PB-3'];
let seq = 0;
/** Items of each reservation that was RESERVED, so commit and release can be judged. */
const reserved = new Map<string, { sku: string; quantity: number }[]>();

beforeAll(async () => {
  h = await startHarness('inventory_property');
  for (const sku of POOL)
    expect((await h.call('PUT', `/stock/${sku}`, { available: 1_000_000 })).status).toBe(200);
});

afterAll(async () => {
  await h?.stop();
  console.log(`inventory property cases run: ${casesRun.count}`);
});

type Snapshot = { levels: (StockLevels | undefined)[]; ledgerRows: number; reservations: number };

async function snapshot(): Promise<Snapshot> {
  const { rows } = await h.service.pool.query(
    'SELECT (SELECT count(*)::int FROM stock_ledger) AS l, (SELECT count(*)::int FROM reservations) AS r',
  );
  return {
    levels: await Promise.all(POOL.map((s) => h.store.levels(s))),
    ledgerRows: rows[0].l,
    reservations: rows[0].r,
  };
}

const units = (l: StockLevels | undefined) => (l ? l.available + l.reserved + l.sold : 0);

const sku = field(fc.constantFrom(...POOL), 6);
const quantity = field(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1, 100_000)));
const orderId = field(fc.constant('VALID'), 6);
const withId = (b: unknown) =>
  b && typeof b === 'object' && (b as { orderId?: unknown }).orderId === 'VALID'
    ? { ...b, orderId: `pb-${seq++}` }
    : b;

describe('inventory bodies (property)', () => {
  test('PUT /stock/:sku sets exactly the value sent, or refuses with a problem and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POOL),
        body({ available: field(fc.integer({ min: 0, max: 1_000_000_000 })) }),
        async (target, payload) => {
          casesRun.count++;
          const before = await snapshot();
          const answer = await send(`${h.service.url}/stock/${target}`, 'PUT', payload);
          expectNoServerError(answer, payload);
          const after = await snapshot();
          if (isProblem(answer)) {
            expect(after).toEqual(before);
            return;
          }
          expect(answer.status).toBe(200);
          const i = POOL.indexOf(target);
          expect(after.levels[i]).toEqual({
            ...before.levels[i],
            available: (payload as { available: number }).available,
          });
          expect(answer.body).toEqual({ sku: target, ...after.levels[i] });
        },
      ),
      { numRuns: CASES },
    );
    // Leave plenty to reserve.
    for (const s of POOL) await h.call('PUT', `/stock/${s}`, { available: 1_000_000 });
  });

  test('POST /reservations reserves exactly the merged items, rejects without a change, or refuses', async () => {
    const items = field(fc.array(body({ sku, quantity }), { minLength: 1, maxLength: 4 }), 6);
    await fc.assert(
      fc.asyncProperty(body({ orderId, items }), async (raw) => {
        casesRun.count++;
        const payload = withId(raw);
        const before = await snapshot();
        const answer = await send(`${h.service.url}/reservations`, 'POST', payload);
        expectNoServerError(answer, payload);
        const after = await snapshot();
        if (isProblem(answer)) {
          expect(after).toEqual(before);
          return;
        }
        const { orderId: id, items: lines } = payload as {
          orderId: string;
          items: { sku: string; quantity: number }[];
        };
        for (const i of POOL.keys()) expect(units(after.levels[i])).toBe(units(before.levels[i]));
        if (answer.status === 409) {
          expect(after.levels).toEqual(before.levels);
          return;
        }
        expect(answer.status).toBe(201);
        expect(answer.body).toMatchObject({ orderId: id, status: 'RESERVED' });
        reserved.set(id, lines);
        for (const [i, s] of POOL.entries()) {
          const q = lines.filter((l) => l.sku === s).reduce((n, l) => n + l.quantity, 0);
          expect(after.levels[i]!.available).toBe(before.levels[i]!.available - q);
          expect(after.levels[i]!.reserved).toBe(before.levels[i]!.reserved + q);
        }
      }),
      { numRuns: CASES * 2 },
    );
  });

  test('commit and release take any body (or none), conserve units, and refuse unknown ids with a problem', async () => {
    const known = () => [...reserved.keys()];
    const target = fc.oneof(
      {
        arbitrary: fc
          .integer({ min: 0, max: 1_000 })
          .map((n) => known()[n % Math.max(1, known().length)] ?? 'none'),
        weight: 4,
      },
      {
        arbitrary: fc.oneof(
          fc.constantFrom('unknown-1', 'x'.repeat(200), '%00', 'é'),
          fc.string({ maxLength: 6 }),
        ),
        weight: 1,
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('commit', 'release'),
        target,
        fc.option(hostile, { freq: 2 }),
        async (action, id, payload) => {
          casesRun.count++;
          const before = await snapshot();
          const answer = await send(
            `${h.service.url}/reservations/${encodeURIComponent(id)}/${action}`,
            'POST',
            payload ?? undefined,
          );
          expectNoServerError(answer, { action, id, payload });
          const after = await snapshot();
          for (const i of POOL.keys()) expect(units(after.levels[i])).toBe(units(before.levels[i]));
          if (isProblem(answer)) {
            expect(after.levels).toEqual(before.levels);
            return;
          }
          for (const l of after.levels) {
            expect(l!.reserved).toBeGreaterThanOrEqual(0);
            expect(l!.available).toBeGreaterThanOrEqual(0);
          }
          expect([200, 409]).toContain(answer.status);
        },
      ),
      { numRuns: CASES },
    );
    // The ledger agrees with Redis after all of it.
    const counters = await h.ledger.counters();
    for (const s of POOL) expect(await h.store.levels(s)).toEqual(counters.get(s));
  });
});
