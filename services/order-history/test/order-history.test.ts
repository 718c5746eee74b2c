import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPool, parseConfig, type FeedEvent, type Pool } from '@aio/kit';
import { createTestDatabase, DEV_TOKEN_AUDIENCE, readFeedUntil, type TestDatabase } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { orderHistoryConfigSchema } from '../src/config.js';
import { applyEvent, ProjectionTables } from '../src/projection.js';
import { projectionChecksum, rebuildProjection } from '../src/rebuild.js';
import { startOrderHistory } from '../src/service.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: Stack;
let db: TestDatabase;
let history: Awaited<ReturnType<typeof startOrderHistory>>;
const url = (name: string) => stack.process(name).url;

async function call(
  base: string,
  path: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

const orderBody = (customerId: string, sku: string, paymentToken = 'tok_visa') => ({
  customerId,
  currency: 'EUR',
  paymentToken,
  items: [{ sku, quantity: 1, unitPrice: 10 }],
});

/** Waits until `fn` returns true (or fails after 30 s). */
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Places a service order and waits for its end; returns its id. */
async function placeServiceOrder(customerId: string, sku: string, token = 'tok_visa'): Promise<string> {
  const res = await call(url('order'), '/orders', 'POST', orderBody(customerId, sku, token), {
    prefer: 'wait=20',
    ...(await stack.tokens.headers(customerId)),
  });
  expect([201, 202]).toContain(res.status);
  return res.body.orderId as string;
}

/**
 * Waits until the projection has applied every event its sources have served so far (each id is in
 * the inbox): the projector polls in the background, so a count of one customer's orders can be
 * reached while another's last event, or a late payment state, is still on its way.
 */
async function caughtUp(): Promise<void> {
  const sources = [
    ['order', url('order')],
    ['payment', url('payment')],
    ['monolith', url('monolith')],
    ['catalog', url('catalog')],
  ] as const;
  const wanted = await Promise.all(
    sources.map(async ([name, base]) => ({ name, ids: (await readFeedUntil(base)).map((e) => e.id) })),
  );
  await until('the projection has applied every event its sources served', async () => {
    for (const { name, ids } of wanted) {
      const { rows } = await history.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM history_inbox WHERE source = $1 AND event_id = ANY($2::uuid[])',
        [name, ids],
      );
      if (rows[0]!.n !== ids.length) return false;
    }
    return true;
  });
}

/** `GET /me/orders` as `customerId`, signed in with a token of the stack's issuer. */
const mine = async (customerId: string, query = '') =>
  call(history.url, `/me/orders${query}`, 'GET', undefined, await stack.tokens.headers(customerId));

/** A legacy order placed on the monolith by `customerId` (signed in: the monolith checks tokens too). */
const legacyOrder = async (customerId: string, sku: string) =>
  call(
    url('monolith'),
    '/api/orders',
    'POST',
    orderBody(customerId, sku),
    await stack.tokens.headers(customerId),
  );

beforeAll(async () => {
  stack = await startStack({
    processes: ['order-history'],
    scope: StackScope.test('order_history'),
    commonEnv: { DB_POOL_MAX: '4' },
    env: { 'order-history': { HISTORY_BATCH: '5' } },
  });
  db = await createTestDatabase('order_history_read');
  history = await startOrderHistory(
    parseConfig(orderHistoryConfigSchema, {
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ORDER_URL: url('order'),
      PAYMENT_URL: url('payment'),
      MONOLITH_URL: url('monolith'),
      CATALOG_URL: url('catalog'),
      HISTORY_WAIT_MS: '200',
      // the stack's issuer, as the launcher gives every service
      AUTH_ISSUER: stack.tokens.issuerUrl,
      AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
    }),
    false,
  );
  for (const [svc, path] of [
    ['inventory', '/stock/OH-1'],
    ['monolith', '/api/stock/OH-1'],
  ] as const)
    expect((await call(url(svc), path, 'PUT', { available: 100 })).status).toBe(200);
  // order prices each line from the catalog: OH-1 at the 10 EUR the order bodies state; its name is
  // what the history shows for the line (from the catalog's feed)
  const product = { name: 'Order history mug', priceMinor: 1000, currency: 'EUR' };
  expect((await call(url('catalog'), '/products/OH-1', 'PUT', product)).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await history?.close();
  await db?.drop();
  await stack?.stop();
});

describe('order-history', () => {
  test("a customer sees their legacy and service orders together, newest first, paginated, and never another's", async () => {
    const legacy = await legacyOrder('alice', 'OH-1');
    expect(legacy.status).toBe(201);
    const approved = await placeServiceOrder('alice', 'OH-1');
    const declined = await placeServiceOrder('alice', 'OH-1', 'tok_chargeDeclined');
    const bobs = await placeServiceOrder('bob', 'OH-1');
    await legacyOrder('bob', 'OH-1');
    await until('alice has 3 orders with their final states', async () => {
      const r = await mine('alice');
      return (
        r.body.orders?.length === 3 &&
        r.body.orders.every((o: Json) => o.status !== 'PENDING' && o.paymentStatus !== 'NONE')
      );
    });
    await caughtUp();
    const all = (await mine('alice')).body.orders as Json[];
    expect(all.map((o) => o.orderId)).toEqual([declined, approved, String(legacy.body.orderId)]);
    expect(all[0]).toMatchObject({
      origin: 'service',
      status: 'REJECTED',
      paymentStatus: 'DECLINED',
      total: 10,
    });
    expect(all[1]).toMatchObject({
      origin: 'service',
      status: 'APPROVED',
      paymentStatus: 'CAPTURED',
      currency: 'EUR',
      items: [{ sku: 'OH-1', name: 'Order history mug', quantity: 1, unitPrice: 10 }],
    });
    expect(all[2]).toMatchObject({
      origin: 'legacy',
      status: 'APPROVED',
      paymentStatus: 'NOT_TRACKED',
      items: [{ sku: 'OH-1', name: 'Order history mug', quantity: 1, unitPrice: 10 }],
    });
    // keyset pages of one: every order once, in the same order
    const paged: string[] = [];
    let next: string | undefined;
    do {
      const page = await mine('alice', `?limit=1${next ? `&after=${next}` : ''}`);
      expect(page.status).toBe(200);
      paged.push(...page.body.orders.map((o: Json) => o.orderId));
      next = page.body.next;
    } while (next);
    expect(paged).toEqual(all.map((o) => o.orderId));
    // bob sees his two only; nobody sees anything without a verified customer
    const bob = (await mine('bob')).body.orders as Json[];
    expect(bob).toHaveLength(2);
    expect(bob.map((o) => o.orderId)).toContain(bobs);
    expect(bob.every((o) => !all.some((a) => a.orderId === o.orderId))).toBe(true);
    expect((await call(history.url, '/me/orders')).status).toBe(401);
    // an identity header a client sets is not a customer, with or without a token
    expect(
      (await call(history.url, '/me/orders', 'GET', undefined, { 'x-test-customer': 'alice' })).status,
    ).toBe(401);
    const spoofed = {
      ...(await stack.tokens.headers('bob')),
      'x-test-customer': 'alice',
      'x-customer-id': 'alice',
    };
    expect((await call(history.url, '/me/orders', 'GET', undefined, spoofed)).body.orders).toHaveLength(2);
    expect(
      (
        await call(history.url, '/me/orders', 'GET', undefined, {
          authorization: `Bearer ${await stack.tokens.expired('alice')}`,
        })
      ).status,
    ).toBe(401);
    const metrics = await (await fetch(`${history.url}/metrics`)).text();
    expect(metrics).toMatch(/^aio_history_lag_events\{source="monolith"\} 0$/m);
    expect(metrics).toMatch(/^aio_history_projection_lag_seconds_count\{source="order"\} [1-9]/m);
    expect((await mine('alice', '?after=bm90LWEtcG9zaXRpb24')).status).toBe(400);
    expect((await mine('alice', '?limit=0')).status).toBe(400);
    // a rename in the catalog reaches every order's line through the catalog's feed
    const renamed = { name: 'Order history mug, blue', priceMinor: 1000, currency: 'EUR' };
    expect((await call(url('catalog'), '/products/OH-1', 'PUT', renamed)).status).toBe(200);
    await until('the new name is shown', async () =>
      ((await mine('alice')).body.orders as Json[]).every((o) => o.items[0].name === renamed.name),
    );
  });

  test('a duplicate delivery changes nothing, and an older state never replaces a newer one', async () => {
    const pool: Pool = history.pool;
    await caughtUp();
    const before = await projectionChecksum(pool);
    const events: FeedEvent[] = await readFeedUntil(url('order'));
    const live = new ProjectionTables('');
    const client = await pool.connect();
    try {
      for (const e of events) expect(await applyEvent(client, live, 'order', e)).toBe(false);
      // the same old state under a new id passes the inbox but not the version guard
      const placed = events.find((e) => e.type === 'order.placed')!;
      expect(
        await applyEvent(client, live, 'order', { ...placed, id: '00000000-0000-4000-8000-000000000001' }),
      ).toBe(true);
    } finally {
      client.release();
    }
    expect(await projectionChecksum(pool)).toBe(before);
  });

  test('kill -9 of the projector mid-batch: after a restart, its projection equals a fresh rebuild', async () => {
    const child = stack.process('order-history');
    // events pile up while it is down, so its next page holds more than the crash point
    await child.kill9();
    for (let i = 0; i < 4; i++) await legacyOrder(`crash-${i}`, 'OH-1');
    await child.restart({ AIO_HISTORY_CRASH_AFTER: '3' }).catch(() => undefined); // may die before it is ready
    const exit = await child.exited();
    expect(exit.signal).toBe('SIGKILL');
    await child.restart({ AIO_HISTORY_CRASH_AFTER: '0' });
    const childPool = createPool(child.env.DATABASE_URL!);
    try {
      await until('the restarted projector catches up', async () => {
        const s = (await call(child.url, '/history/status')).body.sources as Json[];
        const { rows } = await childPool.query(
          "SELECT count(*)::int AS n FROM history_order WHERE customer_id LIKE 'crash-%'",
        );
        return rows[0].n === 4 && s.every((x) => x.lagEvents === 0);
      });
      const projected = await projectionChecksum(childPool);
      await rebuildProjection(
        childPool,
        [
          { name: 'order', url: url('order') },
          { name: 'payment', url: url('payment') },
          { name: 'monolith', url: url('monolith') },
          { name: 'catalog', url: url('catalog') },
        ],
        history.logger,
      );
      expect(await projectionChecksum(childPool)).toBe(projected);
      // the service keeps answering on the swapped-in tables
      expect((await call(child.url, '/history/status')).status).toBe(200);
    } finally {
      await childPool.end();
    }
  });
});
