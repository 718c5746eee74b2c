import { createPool, migrate, SagaEngine, type Pool } from '@aio/kit';
import { createTestDatabase, type TestDatabase } from '@aio/kit/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type InventoryHarness } from '../../inventory/test/harness.js';
import { ORDER_MIGRATIONS } from '../src/migrations.js';
import { PLACE_ORDER, placeOrderSaga, type PlaceOrderInput } from '../src/order-saga.js';
import { findOrder, orderInsert } from '../src/order-store.js';

// The order saga against the real inventory service, driven below the order's own HTTP validation:
// whatever the order accepts, a request a participant refuses must say why in the order.
let inventory: InventoryHarness;
let db: TestDatabase;
let pool: Pool;
let engine: SagaEngine;

beforeAll(async () => {
  inventory = await startHarness('order_rejection_inv');
  db = await createTestDatabase('order_rejection');
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, ORDER_MIGRATIONS);
  engine = new SagaEngine({ pool }).register(
    placeOrderSaga({
      inventoryUrl: inventory.service.url,
      paymentUrl: inventory.service.url, // never reached: the reservation is refused first
      deadlineMs: 30_000,
    }),
  );
}, 30_000);

afterAll(async () => {
  await engine?.stop();
  await pool?.end();
  await db?.drop();
  await inventory?.stop();
});

describe('order saga rejected by a participant with 400', () => {
  test("names the participant's problem detail in the order, not an opaque HTTP_400", async () => {
    expect((await inventory.call('PUT', '/stock/REJ-1', { available: 10 })).status).toBe(200);
    const orderId = randomUUID();
    const items = [{ sku: 'REJ-1', quantity: 200_000, unitPrice: 1 }]; // inventory allows 100,000
    const input: PlaceOrderInput = {
      orderId,
      customerId: 'c-rej',
      items,
      total: 200_000,
      currency: 'EUR',
      paymentToken: 'tok_visa',
    };
    const row = { orderId, customerId: 'c-rej', items, total: 200_000, currency: 'EUR', requestHash: 'h' };
    const created = await engine.createWith(pool, orderInsert(row, undefined), PLACE_ORDER, input, orderId);
    created!.dispatch();
    const settled = await created!.getResult({ timeoutMs: 20_000 });
    expect(settled?.state).toBe('COMPENSATED');
    const order = await findOrder(pool, orderId);
    expect(order?.status).toBe('REJECTED');
    expect(order?.rejectionReason).toMatch(
      /^inventory answered 400: items\[0\]\.quantity: must be <= 100000/,
    );
    expect(settled?.steps.reserveStock).toMatchObject({ status: 'REJECTED', attempts: 1 });
    expect((await inventory.call('GET', '/stock/REJ-1')).body).toMatchObject({ available: 10, reserved: 0 });
  });
});
