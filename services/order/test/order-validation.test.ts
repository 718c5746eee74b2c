import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  body,
  CASES,
  casesRun,
  expectNoServerError,
  field,
  isProblem,
  send,
} from '../../kit/test/hostile-input.js';
import type { Stack } from '@aio/stack';
import { addSku, sleep, startSagaStack } from './order-client.js';

/**
 * The order service refuses up front, with a 400 naming the field, what inventory or payment would
 * refuse later (the same limits, from the kit); what it accepts, they accept too.
 */

const SKUS = ['OV-1', 'OV-2'];
/** Catalog prices (EUR minor units): OV-1 is what `valid()` states, the others price the total cases. */
const PRICES: Record<string, number> = { 'OV-1': 1000, 'OV-2': 1999, 'OV-CENT': 10, 'OV-BIG': 900_000_000 };
let stack: Stack;
let db: pg.Client;

beforeAll(async () => {
  stack = await startSagaStack('order_validation', { order: { SAGA_POLL_MS: '200' } });
  for (const [sku, priceMinor] of Object.entries(PRICES))
    await addSku(stack, sku, 1_000_000_000, { priceMinor, currency: 'EUR' });
  db = new pg.Client({ connectionString: stack.database('order').url });
  await db.connect();
}, 90_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
  console.log(`order property cases run: ${casesRun.count}`);
});

/** The authorization header of a signed-in customer (order takes the customer from the token). */
const auth = async (customer: string) => stack.tokens.headers(customer);

const orders = async () => Number((await db.query('SELECT count(*) AS n FROM orders')).rows[0].n);

const valid = () => ({
  customerId: 'c-1',
  currency: 'EUR',
  paymentToken: 'tok_visa',
  items: [{ sku: 'OV-1', quantity: 1, unitPrice: 10 }],
});

describe('POST /orders validates up front', () => {
  const cases: [string, (b: ReturnType<typeof valid>) => unknown, string, Record<string, string>?][] = [
    ['an over-long SKU', (b) => ({ ...b, items: [{ ...b.items[0], sku: 'S'.repeat(65) }] }), 'items[0].sku'],
    ['a non-ASCII SKU', (b) => ({ ...b, items: [{ ...b.items[0], sku: 'SKU-é' }] }), 'items[0].sku'],
    ['a NUL in the SKU', (b) => ({ ...b, items: [{ ...b.items[0], sku: 'A\u0000B' }] }), 'items[0].sku'],
    ['a NUL in the customerId', (b) => ({ ...b, customerId: 'c\u00001' }), 'customerId'],
    ['a numeric customerId', (b) => ({ ...b, customerId: 42 }), 'customerId'],
    ['51 lines', (b) => ({ ...b, items: Array.from({ length: 51 }, () => b.items[0]) }), 'items'],
    [
      'a quantity over 100,000',
      (b) => ({ ...b, items: [{ ...b.items[0], quantity: 100_001 }] }),
      'items[0].quantity',
    ],
    [
      'a quantity of 2^53+1',
      (b) => ({ ...b, items: [{ ...b.items[0], quantity: 2 ** 53 + 1 }] }),
      'items[0].quantity',
    ],
    ['a quantity "1"', (b) => ({ ...b, items: [{ ...b.items[0], quantity: '1' }] }), 'items[0].quantity'],
    ['a price of 0', (b) => ({ ...b, items: [{ ...b.items[0], unitPrice: 0 }] }), 'items[0].unitPrice'],
    ['a price of 1e12', (b) => ({ ...b, items: [{ ...b.items[0], unitPrice: 1e12 }] }), 'items[0].unitPrice'],
    [
      'a price of 1e300',
      (b) => ({ ...b, items: [{ ...b.items[0], unitPrice: 1e300 }] }),
      'items[0].unitPrice',
    ],
    [
      'a sub-cent price (3 × 0.004)',
      (b) => ({ ...b, items: [{ ...b.items[0], quantity: 3, unitPrice: 0.004 }] }),
      'items[0].unitPrice',
    ],
    [
      'cents in yen',
      (b) => ({ ...b, currency: 'JPY', items: [{ ...b.items[0], unitPrice: 10.5 }] }),
      'items[0].unitPrice',
    ],
    [
      'a total payment refuses (2 × the catalog’s 9,000,000)',
      (b) => ({ ...b, items: [{ sku: 'OV-BIG', quantity: 2 }] }),
      'items',
    ],
    ['an unknown currency', (b) => ({ ...b, currency: 'ZZZ' }), 'currency'],
    ['an unknown field', (b) => ({ ...b, coupon: 'FREE' }), 'coupon'],
    ['a 4.8 kB Idempotency-Key', (b) => b, 'idempotency-key', { 'idempotency-key': 'k'.repeat(4800) }],
  ];
  test.each(cases)(
    'refuses %s with a 400 naming the field, and stores nothing',
    async (_, mutate, name, headers = {}) => {
      const before = await orders();
      const answer = await send(`${stack.process('order').url}/orders`, 'POST', mutate(valid()), {
        ...(await auth('c-1')),
        ...headers,
      });
      expect(answer.status).toBe(400);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body['invalid-params'].map((p: { name: string }) => p.name)).toContain(name);
      expect(await orders()).toBe(before);
    },
  );

  test('stores the exact total of the catalog’s prices in the currency’s decimals', async () => {
    const answer = await send(
      `${stack.process('order').url}/orders`,
      'POST',
      {
        ...valid(),
        items: [
          { sku: 'OV-CENT', quantity: 3 },
          { sku: 'OV-2', quantity: 7, unitPrice: 19.99 },
        ],
      },
      await auth('c-1'),
    );
    expect(answer.status).toBe(202);
    const { rows } = await db.query('SELECT total::text FROM orders WHERE order_id = $1', [
      answer.body.orderId,
    ]);
    expect(rows[0].total).toBe('140.230');
  });
});

describe('POST /orders bodies (property)', () => {
  test('each body is refused with a problem and stores nothing, or is accepted and then accepted by the participants', async () => {
    const accepted: { id: string; token: string }[] = [];
    const fields = {
      sku: fc.constantFrom(...SKUS),
      quantity: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(100_000)),
      // mostly the catalog's price or none (accepted), sometimes another one (a 409 problem)
      unitPrice: fc.oneof(
        fc.constant(10),
        fc.constant(undefined),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 100_000 }).map((c) => c / 100),
        fc.constantFrom(0.01, 99.99),
      ),
      customerId: fc.constantFrom('c-1', 'someone@example.com'),
      // the catalog prices in EUR: an order in another currency is a 409 problem
      currency: fc.constantFrom('EUR', 'EUR', 'USD', 'JPY'),
      paymentToken: fc.constantFrom('tok_visa', 'tok_chargeDeclined'),
    };
    const order = (
      f: (a: fc.Arbitrary<unknown>) => fc.Arbitrary<unknown>,
      shape: typeof body | typeof fc.record,
    ) =>
      shape({
        customerId: f(fields.customerId),
        currency: f(fields.currency),
        paymentToken: f(fields.paymentToken),
        items: f(
          fc.array(
            shape({ sku: f(fields.sku), quantity: f(fields.quantity), unitPrice: f(fields.unitPrice) }),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
        ),
      });
    // Half valid (so that the participants' side of the property is exercised), half hostile.
    const payload = fc.oneof(
      order((a) => a, fc.record),
      order((a) => field(a, 6), body),
    );
    await fc.assert(
      fc.asyncProperty(payload, async (sent) => {
        casesRun.count++;
        const before = await orders();
        // the customer the body claims, as its client would be signed in; c-1 for a hostile one
        const claimed = (sent as { customerId?: unknown } | null)?.customerId;
        const customer = typeof claimed === 'string' && /^[!-~]{1,128}$/.test(claimed) ? claimed : 'c-1';
        const answer = await send(`${stack.process('order').url}/orders`, 'POST', sent, await auth(customer));
        expectNoServerError(answer, sent);
        if (isProblem(answer)) {
          expect(await orders()).toBe(before);
          return;
        }
        expect(answer.status).toBe(202);
        accepted.push({ id: answer.body.orderId, token: (sent as { paymentToken: string }).paymentToken });
      }),
      { numRuns: CASES * 2 },
    );
    // Everything the order service accepted, inventory and payment accept too: no order ends
    // REJECTED except by the payment's decline.
    const deadline = Date.now() + 60_000;
    let pending = accepted.length;
    while (pending > 0 && Date.now() < deadline) {
      pending = Number(
        (await db.query("SELECT count(*) AS n FROM orders WHERE status = 'PENDING'")).rows[0].n,
      );
      if (pending) await sleep(200);
    }
    expect(pending).toBe(0);
    const { rows } = await db.query<{ order_id: string; status: string; rejection_reason: string | null }>(
      'SELECT order_id, status, rejection_reason FROM orders WHERE order_id = ANY($1)',
      [accepted.map((a) => a.id)],
    );
    const token = new Map(accepted.map((a) => [a.id, a.token]));
    const unexpected = rows.filter((r) =>
      token.get(r.order_id) === 'tok_visa' ? r.status !== 'APPROVED' : r.status !== 'REJECTED',
    );
    expect(unexpected).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
    console.log(
      `order property: ${accepted.length} of ${CASES * 2} bodies accepted, all then accepted by inventory and payment`,
    );
  }, 180_000);
});
