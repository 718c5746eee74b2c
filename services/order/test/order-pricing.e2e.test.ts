import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Stack } from '@aio/stack';
import {
  addSku,
  call,
  startSagaStack,
  waitPriceInvalidated,
  waitTerminal,
  type Json,
} from './order-client.js';

/**
 * Orders priced by the platform: order, inventory, payment and catalog as real processes. The catalog
 * sets every line's price; the client's `unitPrice` is only what it expects to pay.
 */

const CATALOG_TIMEOUT_MS = 300;
let stack: Stack;
let db: pg.Client;
let n = 0;

const url = (name: string) => stack.process(name).url;
const orders = async () => Number((await db.query('SELECT count(*) AS n FROM orders')).rows[0].n);
const body = (items: { sku: string; quantity: number; unitPrice?: number }[], currency = 'EUR') => ({
  customerId: 'c-price',
  currency,
  paymentToken: 'tok_visa',
  items,
});

/** A fresh SKU with stock, priced `priceMinor` EUR cents. */
async function product(priceMinor: number): Promise<string> {
  const sku = `PRICE-${++n}`;
  await addSku(stack, sku, 100, { priceMinor, currency: 'EUR' });
  return sku;
}

async function reprice(sku: string, priceMinor: number): Promise<void> {
  const res = await call(`${url('catalog')}/products/${sku}`, 'PUT', {
    name: sku,
    priceMinor,
    currency: 'EUR',
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  stack = await startSagaStack('order_pricing', {
    order: { SAGA_POLL_MS: '200', CATALOG_TIMEOUT_MS: String(CATALOG_TIMEOUT_MS) },
  });
  db = new pg.Client({ connectionString: stack.database('order').url });
  await db.connect();
}, 90_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('orders priced by the catalog', () => {
  test('prices each line, stores price and catalog version, and charges the total that follows', async () => {
    const mug = await product(950);
    const tea = await product(1999);
    await reprice(tea, 2049); // version 2
    const res = await call(
      `${url('order')}/orders`,
      'POST',
      body([
        { sku: mug, quantity: 3 },
        { sku: tea, quantity: 1, unitPrice: 20.49 },
      ]),
    );
    expect(res.status).toBe(202);
    const done = await waitTerminal(() => url('order'), res.body.orderId);
    expect(done).toMatchObject({
      status: 'APPROVED',
      total: 48.99,
      items: [
        { sku: mug, quantity: 3, unitPrice: 9.5, catalogVersion: 1 },
        { sku: tea, quantity: 1, unitPrice: 20.49, catalogVersion: 2 },
      ],
    });
    const payment = await call(`${url('payment')}/payments/${res.body.orderId}`);
    expect(payment.body).toMatchObject({ status: 'CAPTURED', amount: 48.99, currency: 'EUR' });
  });

  test.each([
    ['below', 9.49],
    ['above', 9.51],
  ])(
    'refuses a client price %s the catalog’s with 409 carrying the current price, storing nothing',
    async (_, price) => {
      const mug = await product(950);
      const before = await orders();
      const res = await call(
        `${url('order')}/orders`,
        'POST',
        body([{ sku: mug, quantity: 1, unitPrice: price }]),
      );
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        status: 409,
        code: 'PRICE_MISMATCH',
        prices: [
          { line: 0, sku: mug, expectedUnitPrice: price, unitPrice: 9.5, currency: 'EUR', catalogVersion: 1 },
        ],
      });
      expect(await orders()).toBe(before);
      const stock = await call(`${url('inventory')}/stock/${mug}`);
      expect(stock.body).toMatchObject({ available: 100, reserved: 0 });
    },
  );

  test('refuses an order in another currency than the catalog’s price with 409', async () => {
    const mug = await product(950);
    const res = await call(`${url('order')}/orders`, 'POST', body([{ sku: mug, quantity: 1 }], 'USD'));
    expect(res.status).toBe(409);
    expect(res.body.prices).toEqual([expect.objectContaining({ sku: mug, unitPrice: 9.5, currency: 'EUR' })]);
  });

  test('an unknown SKU is a 400 naming it, not INSUFFICIENT_STOCK later', async () => {
    const mug = await product(950);
    const before = await orders();
    const res = await call(
      `${url('order')}/orders`,
      'POST',
      body([
        { sku: mug, quantity: 1 },
        { sku: 'NO-SUCH-SKU', quantity: 1 },
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'UNKNOWN_SKU',
      sku: 'NO-SUCH-SKU',
      'invalid-params': [{ name: 'items[1].sku', reason: 'no product NO-SUCH-SKU in the catalog' }],
    });
    expect(await orders()).toBe(before);
  });

  test('a price change reaches the next order', async () => {
    const mug = await product(950);
    await reprice(mug, 1100);
    const res = await call(`${url('order')}/orders`, 'POST', body([{ sku: mug, quantity: 2 }]));
    const done = await waitTerminal(() => url('order'), res.body.orderId);
    expect(done).toMatchObject({ total: 22, items: [{ unitPrice: 11, catalogVersion: 2 }] });
  });

  test('a retry with the same Idempotency-Key after a price change gets the first order, not a 409', async () => {
    const mug = await product(950);
    const sent = body([{ sku: mug, quantity: 1, unitPrice: 9.5 }]);
    const key = { 'idempotency-key': `price-${mug}` };
    const first = await call(`${url('order')}/orders`, 'POST', sent, key);
    expect(first.status).toBe(202);
    await reprice(mug, 990);
    await waitPriceInvalidated(stack, mug, 2); // the first order cached version 1
    const retry = await call(`${url('order')}/orders`, 'POST', sent, key);
    expect(retry.status).toBe(202);
    expect(retry.body.orderId).toBe(first.body.orderId);
    // a new order (no key) at the old price is refused
    expect((await call(`${url('order')}/orders`, 'POST', sent)).status).toBe(409);
  });
});

describe('orders when the catalog cannot answer', () => {
  test('catalog down: 503 CATALOG_UNAVAILABLE with Retry-After, nothing stored; priced again once it is back', async () => {
    const mug = await product(950);
    const before = await orders();
    await stack.process('catalog').stop();
    try {
      const res = await fetch(`${url('order')}/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await stack.tokens.for('c-price')}`,
        },
        body: JSON.stringify(body([{ sku: mug, quantity: 1 }])),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).toBe('2');
      expect((await res.json()) as Json).toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
      expect(await orders()).toBe(before);
    } finally {
      await stack.process('catalog').start();
    }
    // back: a client that follows Retry-After gets its order priced. The first reads after the
    // restart may still answer 503 "circuit open, call not made": order's breaker for the catalog
    // opened while it was down (the price cache's feed follower fails against the same dependency)
    // and lets one trial through after its half-open delay. A pooled connection to the killed
    // process is not the cause: the kit's client replays an idempotent read lost on one
    // (services/kit/test/participant-call-stale-connection.test.ts)
    let res = await call(`${url('order')}/orders`, 'POST', body([{ sku: mug, quantity: 1 }]));
    for (let i = 0; i < 10 && res.status === 503; i++) {
      expect(res.body.code).toBe('CATALOG_UNAVAILABLE');
      await new Promise((r) => setTimeout(r, 500));
      res = await call(`${url('order')}/orders`, 'POST', body([{ sku: mug, quantity: 1 }]));
    }
    expect(res.status).toBe(202);
  });

  test('catalog blackholed (accepts, never answers): 503 within the read timeout, never a hang', async () => {
    const mug = await product(950);
    const sockets = new Set<Socket>();
    const blackhole: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as { port: number }).port;
    const order = stack.process('order');
    try {
      await order.restart({ CATALOG_URL: `http://127.0.0.1:${port}` });
      const lines = Array.from({ length: 5 }, () => ({ sku: mug, quantity: 1 }));
      const t0 = Date.now();
      const res = await call(`${order.url}/orders`, 'POST', body(lines));
      const elapsed = Date.now() - t0;
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('CATALOG_UNAVAILABLE');
      expect(sockets.size).toBeGreaterThan(0); // the order really waited on the blackhole
      // the five reads run side by side: one timeout, not five (generous margin for a loaded machine)
      expect(elapsed).toBeLessThan(CATALOG_TIMEOUT_MS * 5);
    } finally {
      await order.restart();
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  });
});
