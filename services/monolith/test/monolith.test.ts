import { parseConfig, serviceConfigSchema, type RunningService } from '@aio/kit';
import {
  createTestDatabase,
  DEV_TOKEN_AUDIENCE,
  DevTokenIssuer,
  IssuerTokens,
  type TestDatabase,
} from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runMonolith } from '../src/service.js';

let db: TestDatabase;
let svc: RunningService;
let issuer: DevTokenIssuer;
let tokens: IssuerTokens;

beforeAll(async () => {
  db = await createTestDatabase('monolith');
  issuer = await DevTokenIssuer.start();
  tokens = new IssuerTokens(issuer.url);
  const config = parseConfig(serviceConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    AUTH_ISSUER: issuer.url,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
  });
  svc = await runMonolith(config, false);
});
afterAll(async () => {
  await svc?.close();
  await issuer?.close();
  await db?.drop();
});

/**
 * A request signed in as `as` (default: the body's customerId, else alice), with a token of the
 * test's issuer; `as: null` sends none, a string starting with `Bearer ` is sent as it is.
 */
async function call(method: string, path: string, body?: unknown, as?: string | null) {
  const claimed = (body as { customerId?: unknown } | undefined)?.customerId;
  const customer = as === undefined ? (typeof claimed === 'string' ? claimed : 'alice') : as;
  const authorization =
    customer === null
      ? undefined
      : customer.startsWith('Bearer ')
        ? customer
        : `Bearer ${await tokens.for(customer)}`;
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    servedBy: res.headers.get('x-served-by'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const order = (sku: string, quantity: number) => ({
  customerId: 'alice',
  items: [{ sku, quantity, unitPrice: 2.5 }],
  currency: 'EUR',
  paymentToken: 'tok_visa',
});

describe('reference monolith', () => {
  test('an order takes its stock at once and is readable by its sequence id', async () => {
    await call('PUT', '/api/stock/MUG', { available: 3 });
    const placed = await call('POST', '/api/orders', order('MUG', 2));
    expect(placed).toMatchObject({
      status: 201,
      servedBy: 'monolith',
      body: { status: 'APPROVED', total: 5 },
    });
    expect(String(placed.body.orderId)).toMatch(/^[0-9]+$/);
    expect((await call('GET', '/api/stock/MUG')).body).toEqual({ sku: 'MUG', available: 1 });
    const read = await call('GET', `/api/orders/${String(placed.body.orderId)}`);
    expect(read.body).toMatchObject({
      orderId: placed.body.orderId,
      customerId: 'alice',
      status: 'APPROVED',
    });
    const list = await call('GET', '/api/orders');
    expect((list.body.orders as unknown[]).length).toBe(1);
  });

  test('an order short of stock is rejected and takes nothing (all or nothing)', async () => {
    await call('PUT', '/api/stock/PEN', { available: 10 });
    const placed = await call('POST', '/api/orders', {
      ...order('PEN', 4),
      items: [
        { sku: 'PEN', quantity: 4, unitPrice: 1 },
        { sku: 'NONE', quantity: 1, unitPrice: 1 },
      ],
    });
    expect(placed.body).toMatchObject({ status: 'REJECTED', rejectionReason: 'INSUFFICIENT_STOCK:NONE' });
    expect((await call('GET', '/api/stock/PEN')).body.available).toBe(10);
  });

  test("a service's UUID is not a monolith id: 404, never 400 or 500", async () => {
    for (const kind of ['orders', 'reviews', 'notifications']) {
      const res = await call('GET', `/api/${kind}/0f8fad5b-d9cb-469f-a165-70867728950e`);
      expect(res.status, kind).toBe(404);
      expect(res.body.detail).toMatch(/^no (order|review|notification) /);
    }
  });

  test('reviews and notifications: create, list, read', async () => {
    const review = await call('POST', '/api/reviews', {
      sku: 'MUG',
      customerId: 'alice',
      rating: 5,
      body: 'good',
    });
    expect(review.status).toBe(201);
    expect((await call('GET', `/api/reviews/${String(review.body.reviewId)}`)).body.rating).toBe(5);
    expect(((await call('GET', '/api/reviews?sku=MUG')).body.reviews as unknown[]).length).toBe(1);
    const note = await call('POST', '/api/notifications', {
      customerId: 'bob',
      channel: 'sms',
      message: 'hi',
    });
    expect(note.status).toBe(201);
    const noteUrl = `/api/notifications/${String(note.body.notificationId)}`;
    expect((await call('GET', noteUrl, undefined, 'bob')).body.channel).toBe('sms');
    expect(
      ((await call('GET', '/api/notifications', undefined, 'bob')).body.notifications as unknown[]).length,
    ).toBe(1);
    // bob's notification is not alice's to read or list
    expect((await call('GET', noteUrl, undefined, 'alice')).status).toBe(404);
    expect((await call('GET', '/api/notifications', undefined, 'alice')).body.notifications).toEqual([]);
    expect(
      (await call('POST', '/api/reviews', { sku: 'MUG', customerId: 'a', rating: 9, body: 'x' })).status,
    ).toBe(400);
  });

  test('own data only, with the same tokens as the services', async () => {
    await call('PUT', '/api/stock/CUP', { available: 10 });
    const { customerId: _c, ...anonymous } = order('CUP', 1);
    const bobs = await call('POST', '/api/orders', anonymous, 'bob');
    expect(bobs.body).toMatchObject({ status: 'APPROVED', customerId: 'bob' });
    const id = String(bobs.body.orderId);
    // alice: bob's order is a 404, her list never shows it, and she cannot order as bob
    expect((await call('GET', `/api/orders/${id}`, undefined, 'alice')).status).toBe(404);
    const hers = (await call('GET', '/api/orders', undefined, 'alice')).body.orders as {
      customerId: string;
    }[];
    expect(hers.every((o) => o.customerId === 'alice')).toBe(true);
    expect((await call('GET', '/api/orders?customerId=bob', undefined, 'alice')).status).toBe(403);
    const forged = await call('POST', '/api/orders', { ...anonymous, customerId: 'bob' }, 'alice');
    expect(forged.status).toBe(403);
    expect((await call('GET', '/api/stock/CUP', undefined, null)).body.available).toBe(9);
    // no token, a refused one, or an identity header: 401; the stock read is public
    for (const as of [
      null,
      `Bearer ${await tokens.expired('bob')}`,
      `Bearer ${await tokens.wrongSignature('bob')}`,
    ]) {
      expect((await call('GET', `/api/orders/${id}`, undefined, as)).status).toBe(401);
    }
    const spoofed = await fetch(`${svc.url}/api/orders`, {
      headers: { 'x-customer-id': 'bob', 'x-user': 'bob' },
    });
    expect(spoofed.status).toBe(401);
    expect((await call('GET', '/api/reviews?sku=MUG', undefined, null)).status).toBe(200);
  });

  test('its contract marks the legacy API public and the operator endpoints not', async () => {
    const doc = (await call('GET', '/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/orders/{orderId}']!.get!['x-aio-public']).toBe(true);
    expect(doc.paths['/api/stock/{sku}']!.get!['x-aio-public']).toBe(true);
    expect(doc.paths['/api/stock/{sku}']!.put!['x-aio-public']).toBeUndefined();
    expect(doc.paths['/healthz']!.get!['x-aio-public']).toBeUndefined();
  });
});
