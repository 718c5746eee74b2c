import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Stack } from '@aio/stack';
import { addSku, call, orderBody, sleep, startSagaStack, waitTerminal, type Json } from './order-client.js';

/**
 * Crashes (SIGKILL) the order process at every saga step boundary, restarts it, and checks that
 * the saga resumes and every participant effect happened exactly once. The order process runs with
 * `AIO_SAGA_CRASH=tagged`: an order whose customerId is `crash:<point>:<step>` kills it there, once.
 */

let stack: Stack;
let sku = 0;

beforeAll(async () => {
  stack = await startSagaStack('order_faults', {
    inventory: { RESERVATION_TTL_SECONDS: '60' },
    order: {
      SAGA_DEADLINE_SECONDS: '30',
      SAGA_LEASE_MS: '300',
      SAGA_POLL_MS: '100',
      AIO_SAGA_CRASH: 'tagged',
    },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

async function crashAndResume(crash: string, token: string) {
  const name = `SKU-F-${++sku}`;
  await addSku(stack, name, 5);
  const replica = stack.process('order');
  if (!replica.running) await replica.start(); // an earlier failed scenario may have left it down
  const exitsBefore = replica.exits;
  const posted = await call(
    `${replica.url}/orders`,
    'POST',
    orderBody([{ sku: name, quantity: 2 }], token, `crash:${crash}`),
  );
  expect(posted.status).toBe(202);
  await replica.exited();
  await sleep(10);
  expect(replica.exits).toBe(exitsBefore + 1); // the hook really killed it
  await replica.start();
  const done = await waitTerminal(() => replica.url, posted.body.orderId as string);
  const stock = (await call(`${stack.process('inventory').url}/stock/${name}`)).body;
  const payment = await call(`${stack.process('payment').url}/payments/${posted.body.orderId}`);
  return { done, stock, payment };
}

describe('order saga crash recovery', () => {
  for (const point of ['before', 'after']) {
    for (const step of ['reserveStock', 'authorizePayment', 'commitReservation', 'capturePayment']) {
      test(`resumes after a crash ${point} ${step} with no double effect`, async () => {
        const { done, stock, payment } = await crashAndResume(`${point}:${step}`, 'tok_visa');
        expect(done.status).toBe('APPROVED');
        expect(stock).toMatchObject({ available: 3, reserved: 0, sold: 2 });
        expect(payment.body).toMatchObject({ status: 'CAPTURED', captures: 1 });
        const crashed = done.saga.steps.find((s: Json) => s.name === step);
        expect(crashed.attempts).toBe(2); // the call was repeated with the same idempotency key
      });
    }
  }

  for (const point of ['before', 'after']) {
    test(`finishes compensating after a crash ${point} releasing the stock`, async () => {
      const { done, stock, payment } = await crashAndResume(
        `${point}:reserveStock:compensation`,
        'tok_chargeDeclined',
      );
      expect(done).toMatchObject({ status: 'REJECTED', rejectionReason: 'card_declined' });
      expect(done.saga.steps[0]).toMatchObject({
        name: 'reserveStock',
        status: 'COMPENSATED',
        compensationAttempts: 2,
      });
      expect(stock).toMatchObject({ available: 5, reserved: 0, sold: 0 });
      expect(payment.body).toMatchObject({ status: 'DECLINED' });
    });
  }
});
