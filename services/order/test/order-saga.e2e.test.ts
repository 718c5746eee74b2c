import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FeedEvent } from '@aio/kit';
import { readFeedUntil } from '@aio/kit/testing';
import type { Stack } from '@aio/stack';
import { addSku, call, orderBody, sleep, startSagaStack, waitTerminal, type Json } from './order-client.js';

let stack: Stack;
let order: string;
let traceFile: string;
let sku = 0;

/** A fresh SKU with `available` units. */
async function newSku(available: number): Promise<string> {
  const name = `SKU-E2E-${++sku}`;
  await addSku(stack, name, available);
  return name;
}

async function stock(name: string): Promise<Json> {
  return (await call(`${stack.process('inventory').url}/stock/${name}`)).body;
}

async function place(body: unknown, key?: string): Promise<string> {
  const res = await call(`${order}/orders`, 'POST', body, key ? { 'idempotency-key': key } : {});
  expect(res.status).toBe(202);
  expect(res.body.status).toBe('PENDING');
  return res.body.orderId as string;
}

beforeAll(async () => {
  traceFile = join(tmpdir(), `aio-order-e2e-spans-${process.pid}-${Date.now()}.jsonl`);
  const tracing = { OTEL_SDK_DISABLED: 'false', AIO_TRACE_FILE: traceFile };
  stack = await startSagaStack('order_e2e', {
    inventory: { RESERVATION_TTL_SECONDS: '6', ...tracing },
    order: {
      SAGA_DEADLINE_SECONDS: '4',
      SAGA_TTL_MARGIN_SECONDS: '1',
      SAGA_LEASE_MS: '1000',
      SAGA_POLL_MS: '200',
      ...tracing,
    },
    payment: tracing,
  });
  order = stack.process('order').url;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await rm(traceFile, { force: true });
});

describe('order saga end to end', () => {
  test('approves an order: stock sold, payment captured once, every step recorded', async () => {
    const a = await newSku(10);
    const b = await newSku(10);
    const id = await place(
      orderBody([
        { sku: a, quantity: 2 },
        { sku: b, quantity: 1 },
      ]),
    );
    const done = await waitTerminal(() => order, id);
    expect(done).toMatchObject({ orderId: id, status: 'APPROVED', total: 30, saga: { state: 'COMPLETED' } });
    expect(done.saga.steps.map((s: Json) => [s.name, s.status, s.attempts])).toEqual([
      ['reserveStock', 'SUCCEEDED', 1],
      ['authorizePayment', 'SUCCEEDED', 1],
      ['commitReservation', 'SUCCEEDED', 1],
      ['capturePayment', 'SUCCEEDED', 1],
    ]);
    expect(await stock(a)).toMatchObject({ available: 8, reserved: 0, sold: 2 });
    expect(await stock(b)).toMatchObject({ available: 9, reserved: 0, sold: 1 });
    expect((await call(`${stack.process('payment').url}/payments/${id}`)).body).toMatchObject({
      status: 'CAPTURED',
      captures: 1,
      amount: 30,
    });
    expect((await call(`${order}/sagas/${id}`)).body).toMatchObject({
      sagaId: id,
      state: 'COMPLETED',
      version: 1,
    });
    const list = await call(`${order}/orders?customerId=c1`);
    expect(list.body.orders.map((o: Json) => o.orderId)).toContain(id);
  });

  test('rejects an out-of-stock order without calling payment', async () => {
    const a = await newSku(1);
    const id = await place(orderBody([{ sku: a, quantity: 2 }]));
    const done = await waitTerminal(() => order, id);
    expect(done).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'INSUFFICIENT_STOCK',
      saga: { state: 'COMPENSATED' },
    });
    expect(done.saga.steps[1]).toMatchObject({ name: 'authorizePayment', attempts: 0 });
    expect((await call(`${stack.process('payment').url}/payments/${id}`)).status).toBe(404);
    expect(await stock(a)).toMatchObject({ available: 1, reserved: 0, sold: 0 });
  });

  test.each(['tok_chargeDeclined', 'tok_insufficientFunds'])(
    'releases the reservation when payment declines (%s)',
    async (token) => {
      const a = await newSku(5);
      const id = await place(orderBody([{ sku: a, quantity: 3 }], token));
      const done = await waitTerminal(() => order, id);
      expect(done.status).toBe('REJECTED');
      expect(done.rejectionReason).toBe(
        token === 'tok_chargeDeclined' ? 'card_declined' : 'insufficient_funds',
      );
      expect(done.saga.steps[0]).toMatchObject({ name: 'reserveStock', status: 'COMPENSATED' });
      expect(await stock(a)).toMatchObject({ available: 5, reserved: 0, sold: 0 });
      expect((await call(`${stack.process('inventory').url}/reservations/${id}`)).body.status).toBe(
        'RELEASED',
      );
    },
  );

  test('voids the payment when the reservation expired before the commit', async () => {
    const a = await newSku(4);
    const replica = stack.process('order');
    await replica.stop();
    await replica.start({ AIO_SAGA_CRASH: 'before:commitReservation' });
    const id = await place(orderBody([{ sku: a, quantity: 1 }]));
    await replica.exited();
    await sleep(6500); // longer than the reservation TTL: the sweeper gives the stock back
    expect(await stock(a)).toMatchObject({ available: 4, reserved: 0 });
    await replica.start();
    const done = await waitTerminal(() => order, id);
    expect(done).toMatchObject({ status: 'REJECTED', rejectionReason: 'RESERVATION_EXPIRED' });
    expect((await call(`${stack.process('payment').url}/payments/${id}`)).body).toMatchObject({
      status: 'VOIDED',
      captures: 0,
    });
    expect(await stock(a)).toMatchObject({ available: 4, reserved: 0, sold: 0 });
  }, 40_000);

  test('returns the same order for the same Idempotency-Key, also when sent concurrently', async () => {
    const a = await newSku(10);
    const body = orderBody([{ sku: a, quantity: 1 }], 'tok_visa', 'c-idem');
    const replies = await Promise.all(
      [1, 2, 3, 4].map(() => call(`${order}/orders`, 'POST', body, { 'idempotency-key': 'k-1' })),
    );
    const ids = new Set(replies.map((r) => r.body.orderId));
    expect(ids.size).toBe(1);
    const [id] = [...ids] as string[];
    await waitTerminal(() => order, id!);
    const again = await call(`${order}/orders`, 'POST', body, { 'idempotency-key': 'k-1' });
    expect(again.body).toEqual({ orderId: id, status: 'APPROVED' });
    // the same request with its members in another order is the same request
    const reordered = Object.fromEntries(Object.entries(body as Record<string, unknown>).reverse());
    const same = await call(`${order}/orders`, 'POST', reordered, { 'idempotency-key': 'k-1' });
    expect(same).toMatchObject({ status: 202, body: { orderId: id, status: 'APPROVED' } });
    const changed = await call(
      `${order}/orders`,
      'POST',
      { ...body, paymentToken: 'tok_other' },
      { 'idempotency-key': 'k-1' },
    );
    expect(changed.status).toBe(422);
    expect(String(changed.body.detail)).toContain('k-1');
    expect((await call(`${order}/orders?customerId=c-idem`)).body.orders).toHaveLength(1);
    expect(await stock(a)).toMatchObject({ available: 9, sold: 1 });
  });

  test('participants answer a repeated request under one orderId with the first outcome, another with 422', async () => {
    const a = await newSku(5);
    const orderId = crypto.randomUUID();
    const reserve = (quantity: number) =>
      call(`${stack.process('inventory').url}/reservations`, 'POST', {
        orderId,
        items: [{ sku: a, quantity }],
      });
    const [r1, r2] = [await reserve(2), await reserve(2)];
    expect([r1.status, r2.status]).toEqual([201, 201]);
    expect((await reserve(3)).status).toBe(422);
    expect(await stock(a)).toMatchObject({ available: 3, reserved: 2 });
    const pay = (amount: number) =>
      call(`${stack.process('payment').url}/payments`, 'POST', {
        orderId,
        customerId: 'c1',
        amount,
        currency: 'EUR',
        paymentToken: 'tok_visa',
      });
    expect((await Promise.all([pay(20), pay(20)])).map((r) => r.status)).toEqual([201, 201]);
    expect((await pay(21)).status).toBe(422);
    const capture = () => call(`${stack.process('payment').url}/payments/${orderId}/capture`, 'POST');
    expect([(await capture()).status, (await capture()).status]).toEqual([200, 200]);
    expect((await call(`${stack.process('payment').url}/payments/${orderId}`)).body).toMatchObject({
      status: 'CAPTURED',
      captures: 1,
      amount: 20,
    });
  });

  test('Prefer: wait=N answers the POST with the outcome, the same document GET reads back', async () => {
    const a = await newSku(1);
    const token = await stack.tokens.for('c1');
    const post = (key: string) =>
      fetch(`${order}/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          prefer: 'wait=10',
          'idempotency-key': key,
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(orderBody([{ sku: a, quantity: 1 }])),
      });
    const approved = await post('prefer-1');
    expect(approved.status).toBe(201);
    expect(approved.headers.get('preference-applied')).toBe('wait=10');
    const approvedBody = (await approved.json()) as Json;
    expect(approved.headers.get('location')).toBe(`/orders/${approvedBody.orderId}`);
    expect(approvedBody).toMatchObject({ status: 'APPROVED', total: 10, saga: { state: 'COMPLETED' } });
    expect(approvedBody).toEqual((await call(`${order}/orders/${approvedBody.orderId}`)).body);
    const replayed = await post('prefer-1'); // the same key and request: the first outcome again
    expect(replayed.status).toBe(201);
    expect(await replayed.json()).toEqual(approvedBody);
    const rejected = await post('prefer-2'); // the one unit is sold
    expect(rejected.status).toBe(201);
    const rejectedBody = (await rejected.json()) as Json;
    expect(rejectedBody).toMatchObject({ status: 'REJECTED', rejectionReason: 'INSUFFICIENT_STOCK' });
    expect(rejectedBody).toEqual((await call(`${order}/orders/${rejectedBody.orderId}`)).body);
  });

  test('a long-poll GET of a saga running here answers what a later plain GET reads', async () => {
    const a = await newSku(2);
    const id = await place(orderBody([{ sku: a, quantity: 2 }], 'tok_chargeDeclined'));
    const waited = await call(`${order}/orders/${id}?waitMs=5000`);
    expect(waited.body).toMatchObject({ status: 'REJECTED', rejectionReason: 'card_declined' });
    expect(waited.body).toEqual((await call(`${order}/orders/${id}`)).body);
  });

  test('rejects bad input with a problem+json 400 naming the field', async () => {
    const res = await call(`${order}/orders`, 'POST', {
      customerId: 'c1',
      currency: 'EUR',
      paymentToken: 'tok_visa',
      items: [],
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('items');
    expect((await call(`${order}/orders/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call(`${order}/sagas?stuck=true`)).body.sagas).toEqual([]);
    expect(await fetch(`${order}/metrics`).then((r) => r.text())).toMatch(/^aio_saga_stuck 0$/m);
  });
});

describe('order saga tracing', () => {
  test('one order yields one trace with spans from order, inventory and payment', async () => {
    const a = await newSku(3);
    const id = await place(orderBody([{ sku: a, quantity: 1 }]));
    expect((await waitTerminal(() => order, id)).status).toBe('APPROVED');
    await sleep(300); // span export is asynchronous
    const spans = (await readFile(traceFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { service: string; name: string; kind: number; traceId: string; attributes: Json },
      );
    const sagaSpans = spans.filter((s) => s.attributes['saga.id'] === id);
    const traceIds = new Set(sagaSpans.map((s) => s.traceId));
    expect(traceIds.size).toBe(1);
    const trace = spans.filter((s) => traceIds.has(s.traceId));
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['order', 'inventory', 'payment']));
    // the POST /orders server span opened the trace; the saga steps continued it
    expect(trace.some((s) => s.service === 'order' && s.kind === 1 && /POST/.test(s.name))).toBe(true);
    expect(sagaSpans.map((s) => s.name).sort()).toEqual([
      'saga step authorizePayment',
      'saga step capturePayment',
      'saga step commitReservation',
      'saga step reserveStock',
    ]);
    expect(trace.filter((s) => s.service === 'payment' && s.kind === 1)).toHaveLength(2); // authorize + capture
  });
});

describe('order, payment and reservation events', () => {
  test('each service records its events with its changes: placed then approved, or placed then rejected', async () => {
    const a = await newSku(3);
    const ok = await place(orderBody([{ sku: a, quantity: 1 }], 'tok_visa', 'c-events'));
    const declined = await place(orderBody([{ sku: a, quantity: 1 }], 'tok_chargeDeclined', 'c-events'));
    const short = await place(orderBody([{ sku: a, quantity: 50 }], 'tok_visa', 'c-events'));
    for (const id of [ok, declined, short]) await waitTerminal(() => order, id);
    const types = (events: readonly FeedEvent[], id: string) =>
      events.filter((e) => e.aggregateId === id).map((e) => `${e.sequence}:${e.type}`);
    const orders = await readFeedUntil(order, (e) => types(e, short).length === 2);
    expect(types(orders, ok)).toEqual(['1:order.placed', '2:order.approved']);
    expect(types(orders, declined)).toEqual(['1:order.placed', '2:order.rejected']);
    expect(types(orders, short)).toEqual(['1:order.placed', '2:order.rejected']);
    const approved = orders.find((e) => e.aggregateId === ok && e.sequence === 2)!;
    expect(approved.payload).toEqual({
      orderId: ok,
      customerId: 'c-events',
      status: 'APPROVED',
      items: [{ sku: a, quantity: 1, unitPrice: 10 }],
      total: 10,
      currency: 'EUR',
      placedAt: (orders.find((e) => e.aggregateId === ok)!.payload as { placedAt: string }).placedAt,
    });
    expect(JSON.stringify(orders)).not.toContain('tok_'); // never the payment token
    const payments = await readFeedUntil(stack.process('payment').url, (e) => types(e, declined).length > 0);
    expect(types(payments, ok)).toEqual(['1:payment.authorized', '2:payment.captured']);
    expect(types(payments, declined)).toEqual(['1:payment.declined']);
    const reservations = await readFeedUntil(
      stack.process('inventory').url,
      (e) => types(e, short).length > 0,
    );
    expect(types(reservations, ok)).toEqual(['1:reservation.reserved', '2:reservation.committed']);
    expect(types(reservations, declined)).toEqual(['1:reservation.reserved', '2:reservation.released']);
    expect(types(reservations, short)).toEqual(['1:reservation.rejected']);
  });
});

describe('order service startup', () => {
  test('refuses a saga deadline that does not fit inside the reservation TTL', async () => {
    const { spawnSync } = await import('node:child_process');
    const res = spawnSync(process.execPath, [join(import.meta.dirname, '../dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        OTEL_SDK_DISABLED: 'true',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
        INVENTORY_URL: 'http://127.0.0.1:1',
        PAYMENT_URL: 'http://127.0.0.1:2',
        CATALOG_URL: 'http://127.0.0.1:3',
        SAGA_DEADLINE_SECONDS: '900',
        RESERVATION_TTL_SECONDS: '900',
      },
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(
      'config error: SAGA_DEADLINE_SECONDS: must be shorter than RESERVATION_TTL_SECONDS (900)',
    );
  });
});

describe('preferredWait', () => {
  test.each([
    [undefined, 0],
    ['', 0],
    ['wait=5', 5],
    ['respond-async, wait=7', 7],
    ['return=minimal; wait="3"', 3],
    ['WAIT = 2', 2],
    ['wait=600', 30],
    ['nowait=5', 0],
    [['handling=lenient', 'wait=4'], 4],
  ])('%j → %d s', async (header, seconds) => {
    const { preferredWait } = await import('../src/order-routes.js');
    expect(preferredWait(header)).toBe(seconds);
  });
});
