import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SPOOFED_IDENTITY_HEADERS } from '@aio/kit/testing';
import type { Stack } from '@aio/stack';
import { addSku, call, orderBody, startSagaStack, waitTerminal, type Json } from './order-client.js';

/**
 * Own data only (issue 15): order takes the customer from the token the stack's issuer signed, never
 * from the body or a header; another customer's order does not exist for the caller.
 */

let stack: Stack;
let order: string;
const SKU = 'SKU-AUTH';

beforeAll(async () => {
  stack = await startSagaStack('order_auth');
  order = stack.process('order').url;
  await addSku(stack, SKU, 1000);
}, 90_000);

afterAll(() => stack?.stop());

const as = async (customer: string, more: Record<string, string> = {}) => ({
  authorization: `Bearer ${await stack.tokens.for(customer)}`,
  ...more,
});
const line = [{ sku: SKU, quantity: 1 }];
/** An order body without customerId: the token says who orders. */
const anonymousBody = () => {
  const { customerId: _c, ...rest } = orderBody(line);
  return rest;
};

describe('order: the customer is the token’s', () => {
  test('rejects every order route without a valid token with 401, and stores nothing', async () => {
    const refused = [
      ['none', ''],
      ['expired', `Bearer ${await stack.tokens.expired('alice')}`],
      ['wrong audience', `Bearer ${await stack.tokens.wrongAudience('alice')}`],
      ['wrong issuer', `Bearer ${await stack.tokens.wrongIssuer('alice')}`],
      ['wrong signature', `Bearer ${await stack.tokens.wrongSignature('alice')}`],
    ];
    for (const [kind, authorization] of refused) {
      for (const [method, path, body] of [
        ['POST', '/orders', anonymousBody()],
        ['GET', '/orders', undefined],
        ['GET', `/orders/${crypto.randomUUID()}`, undefined],
      ] as const) {
        const res = await call(`${order}${path}`, method, body, { authorization: authorization! });
        expect(res.status, `${kind} ${method} ${path}`).toBe(401);
      }
    }
    const list = await call(`${order}/orders`, 'GET', undefined, await as('alice'));
    expect(list.body.orders).toEqual([]);
  });

  test('places the order for the token’s customer; a body customerId that differs is a 403', async () => {
    const placed = await call(`${order}/orders`, 'POST', anonymousBody(), await as('alice'));
    expect(placed.status).toBe(202);
    const done = await waitTerminal(() => order, placed.body.orderId);
    expect(done).toMatchObject({ customerId: 'alice', status: 'APPROVED' });
    const same = await call(
      `${order}/orders`,
      'POST',
      orderBody(line, 'tok_visa', 'alice'),
      await as('alice'),
    );
    expect(same.status).toBe(202);
    const before = (await call(`${order}/orders`, 'GET', undefined, await as('bob'))).body.orders.length;
    const forged = await call(
      `${order}/orders`,
      'POST',
      orderBody(line, 'tok_visa', 'bob'),
      await as('alice'),
    );
    expect(forged.status).toBe(403);
    expect(forged.body['invalid-params']).toEqual([
      { name: 'customerId', reason: 'is not the customer of the token' },
    ]);
    expect((await call(`${order}/orders`, 'GET', undefined, await as('bob'))).body.orders).toHaveLength(
      before,
    );
  });

  test('alice cannot read bob’s order (404, as an unknown one) nor see it in her list', async () => {
    const bobs = await call(`${order}/orders`, 'POST', anonymousBody(), await as('bob'));
    const id = bobs.body.orderId as string;
    await waitTerminal(() => order, id);
    const mine = await call(`${order}/orders/${id}`, 'GET', undefined, await as('bob'));
    expect(mine.body).toMatchObject({ orderId: id, customerId: 'bob' });
    const unknown = await call(`${order}/orders/${crypto.randomUUID()}`, 'GET', undefined, await as('alice'));
    for (const url of [`/orders/${id}`, `/orders/${id}?waitMs=500`]) {
      const theirs = await call(`${order}${url}`, 'GET', undefined, await as('alice'));
      expect(theirs.status, url).toBe(404);
      expect(theirs.body.detail).toBe(`no order ${id}`);
      expect(Object.keys(theirs.body).sort()).toEqual(Object.keys(unknown.body).sort());
    }
    const list = await call(`${order}/orders`, 'GET', undefined, await as('alice'));
    expect(list.body.orders.length).toBeGreaterThan(0);
    expect(list.body.orders.every((o: Json) => o.customerId === 'alice')).toBe(true);
    expect((await call(`${order}/orders?customerId=bob`, 'GET', undefined, await as('alice'))).status).toBe(
      403,
    );
  });

  test('an identity header sent by the client changes nothing', async () => {
    const spoof = SPOOFED_IDENTITY_HEADERS;
    expect((await call(`${order}/orders`, 'GET', undefined, { ...spoof, authorization: '' })).status).toBe(
      401,
    );
    const placed = await call(`${order}/orders`, 'POST', anonymousBody(), await as('alice', spoof));
    expect(placed.status).toBe(202);
    const read = await call(
      `${order}/orders/${placed.body.orderId}`,
      'GET',
      undefined,
      await as('alice', spoof),
    );
    expect(read.body.customerId).toBe('alice');
    const list = await call(`${order}/orders`, 'GET', undefined, await as('alice', spoof));
    expect(list.body.orders.every((o: Json) => o.customerId === 'alice')).toBe(true);
  });

  test('alice’s Idempotency-Key never collides with bob’s, even sent at the same time', async () => {
    const key = { 'idempotency-key': 'shared-key-1' };
    const replies = await Promise.all(
      ['alice', 'bob', 'alice', 'bob'].map(async (c) =>
        call(`${order}/orders`, 'POST', anonymousBody(), await as(c, key)),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const [a1, b1, a2, b2] = replies.map((r) => r.body.orderId as string);
    // one order per customer: the replays of each got their own customer's order back
    expect(a1).toBe(a2);
    expect(b1).toBe(b2);
    expect(a1).not.toBe(b1);
    const aliceOrder = await waitTerminal(() => order, a1!);
    const bobOrder = await waitTerminal(() => order, b1!);
    expect([aliceOrder.customerId, bobOrder.customerId]).toEqual(['alice', 'bob']);
    // bob's different request under alice's key is not a conflict with alice's (no 422 to probe with)
    const bobOther = await call(
      `${order}/orders`,
      'POST',
      { ...anonymousBody(), paymentToken: 'tok_other' },
      await as('bob', { 'idempotency-key': 'alices-only-key' }),
    );
    expect(bobOther.status).toBe(202);
    const db = new pg.Client({ connectionString: stack.database('order').url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT customer_id, count(*)::int AS n FROM orders WHERE idempotency_key = 'shared-key-1'
          GROUP BY customer_id ORDER BY customer_id`,
      );
      expect(rows).toEqual([
        { customer_id: 'alice', n: 1 },
        { customer_id: 'bob', n: 1 },
      ]);
    } finally {
      await db.end();
    }
  });
});
