import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { callJson, createTestDatabase } from '@aio/kit/testing';
import type { JsonResponse, TestDatabase } from '@aio/kit/testing';
import { paymentConfigSchema } from '../src/config.js';
import type { PaymentConfig } from '../src/config.js';
import { startPayment } from '../src/service.js';

interface PaymentBody {
  readonly orderId: string;
  readonly status: string | number;
  readonly reason?: string;
  readonly amount?: number;
  readonly captures?: number;
  readonly detail?: string;
  readonly 'invalid-params'?: readonly { name: string; reason: string }[];
}

let db: TestDatabase;
let service: RunningService<PaymentConfig>;

beforeAll(async () => {
  db = await createTestDatabase('payment');
  const config = parseConfig(paymentConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  service = await startPayment(config, false);
});

afterAll(async () => {
  await service?.close();
  await db?.drop();
});

function call(method: string, path: string, body?: unknown): Promise<JsonResponse<PaymentBody>> {
  return callJson<PaymentBody>(service.url, method, path, body);
}

const pay = (orderId: string, paymentToken = 'tok_visa', amount = 49.99) => ({
  orderId,
  customerId: 'c-1',
  amount,
  currency: 'EUR',
  paymentToken,
});

async function ledgerCount(orderId: string, kind: string): Promise<number> {
  const { rows } = await service.pool.query(
    'SELECT count(*)::int AS n FROM payment_ledger WHERE order_id = $1 AND kind = $2',
    [orderId, kind],
  );
  return rows[0].n as number;
}

describe('POST /payments', () => {
  test('creates one authorization under 25 concurrent duplicates', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, () => call('POST', '/payments', pay('dup-1'))),
    );
    for (const r of results)
      expect(r).toMatchObject({ status: 201, body: { orderId: 'dup-1', status: 'AUTHORIZED' } });
    expect(await ledgerCount('dup-1', 'AUTHORIZE')).toBe(1);
    expect((await call('GET', '/payments/dup-1')).body).toEqual({
      orderId: 'dup-1',
      status: 'AUTHORIZED',
      amount: 49.99,
      currency: 'EUR',
      captures: 0,
    });
  });

  test('declines the Stripe-style test tokens with their reason, idempotently', async () => {
    expect(await call('POST', '/payments', pay('dec-1', 'tok_chargeDeclined'))).toMatchObject({
      status: 402,
      body: { orderId: 'dec-1', status: 'DECLINED', reason: 'card_declined' },
    });
    const twice = await Promise.all(
      [1, 2].map(() => call('POST', '/payments', pay('dec-2', 'tok_insufficientFunds'))),
    );
    for (const r of twice) expect(r).toMatchObject({ status: 402, body: { reason: 'insufficient_funds' } });
    expect(await ledgerCount('dec-2', 'DECLINE')).toBe(1);
  });

  test('replay rule: the same orderId and request get the first outcome, another request 422', async () => {
    const first = await call('POST', '/payments', pay('diff-1'));
    expect(first.status).toBe(201);
    const { orderId, ...rest } = pay('diff-1');
    const reordered = await call('POST', '/payments', { ...rest, orderId }); // the same request
    expect(reordered).toMatchObject({ status: 201, body: { orderId: 'diff-1', status: 'AUTHORIZED' } });
    for (const other of [
      pay('diff-1', 'tok_visa', 10),
      pay('diff-1', 'tok_mastercard'),
      { ...pay('diff-1'), customerId: 'c-2' },
    ]) {
      const res = await call('POST', '/payments', other);
      expect(res.status).toBe(422);
      expect(res.type).toMatch(/problem\+json/);
      expect(res.body.detail).toContain('diff-1');
    }
    expect(await ledgerCount('diff-1', 'AUTHORIZE')).toBe(1);
    expect((await call('GET', '/payments/diff-1')).body).toMatchObject({
      status: 'AUTHORIZED',
      amount: 49.99,
    });
    // a declined first outcome is kept the same way
    expect((await call('POST', '/payments', pay('diff-2', 'tok_chargeDeclined'))).status).toBe(402);
    expect((await call('POST', '/payments', pay('diff-2', 'tok_visa'))).status).toBe(422);
    expect((await call('POST', '/payments', pay('diff-2', 'tok_chargeDeclined'))).status).toBe(402);
  });

  test('rejects bad bodies with problem+json naming the field', async () => {
    const lower = await call('POST', '/payments', { ...pay('bad-1'), currency: 'eur' });
    expect(lower.status).toBe(400);
    expect(lower.type).toMatch(/^application\/problem\+json/);
    expect(lower.body['invalid-params']?.[0]?.name).toBe('currency');
    const { paymentToken: _omitted, ...noToken } = pay('bad-2');
    expect((await call('POST', '/payments', noToken)).body['invalid-params']?.[0]?.name).toBe('paymentToken');
    expect(
      (await call('POST', '/payments', { ...pay('bad-3'), amount: 1.234 })).body['invalid-params']?.[0]?.name,
    ).toBe('amount');
    expect(
      (await call('POST', '/payments', { ...pay('bad-4'), amount: -5 })).body['invalid-params']?.[0]?.name,
    ).toBe('amount');
  });
});

describe('capture and void', () => {
  test('captures once under concurrent calls and then refuses a void', async () => {
    await call('POST', '/payments', pay('cap-1'));
    const captures = await Promise.all([1, 2, 3].map(() => call('POST', '/payments/cap-1/capture')));
    for (const c of captures) expect(c).toMatchObject({ status: 200, body: { status: 'CAPTURED' } });
    expect((await call('GET', '/payments/cap-1')).body).toMatchObject({ status: 'CAPTURED', captures: 1 });
    expect(await ledgerCount('cap-1', 'CAPTURE')).toBe(1);
    expect(await call('POST', '/payments/cap-1/void')).toMatchObject({
      status: 409,
      body: { status: 'CAPTURED' },
    });
  });

  test('refuses capture after a void, and repeats the void', async () => {
    await call('POST', '/payments', pay('void-1'));
    expect(await call('POST', '/payments/void-1/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect(await call('POST', '/payments/void-1/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect(await call('POST', '/payments/void-1/capture')).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    expect(await ledgerCount('void-1', 'VOID')).toBe(1);
    expect(await ledgerCount('void-1', 'CAPTURE')).toBe(0);
  });

  test('voids an unknown payment as a no-op and refuses a late authorize for it', async () => {
    expect(await call('POST', '/payments/ghost-1/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect(await call('POST', '/payments', pay('ghost-1'))).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    expect(await ledgerCount('ghost-1', 'AUTHORIZE')).toBe(0);
  });

  test('answers VOIDED for a declined payment, and 404 for capture or GET of an unknown one', async () => {
    await call('POST', '/payments', pay('dec-void', 'tok_chargeDeclined'));
    expect(await call('POST', '/payments/dec-void/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect((await call('POST', '/payments/nobody/capture')).status).toBe(404);
    expect((await call('GET', '/payments/nobody')).status).toBe(404);
  });
});
