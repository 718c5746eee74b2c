import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig, type FeedEvent, type RunningService } from '@aio/kit';
import { callJson, createTestDatabase, readFeedUntil, type TestDatabase } from '@aio/kit/testing';
import { paymentConfigSchema, type PaymentConfig } from '../src/config.js';
import { startPayment } from '../src/service.js';

let db: TestDatabase;
let service: RunningService<PaymentConfig>;

beforeAll(async () => {
  db = await createTestDatabase('payment_events');
  service = await startPayment(
    parseConfig(paymentConfigSchema, {
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    }),
    false,
  );
});

afterAll(async () => {
  await service?.close();
  await db?.drop();
});

const pay = (orderId: string, paymentToken = 'tok_visa') => ({
  orderId,
  customerId: 'c-7',
  amount: 12.5,
  currency: 'EUR',
  paymentToken,
});

const of = (events: readonly FeedEvent[], orderId: string) =>
  events.filter((e) => e.aggregateId === orderId).map((e) => [e.sequence, e.type]);

describe('payment events', () => {
  test('records each finished transition once, in the statement that makes it, under concurrent duplicates', async () => {
    const call = (method: string, path: string, body?: unknown) => callJson(service.url, method, path, body);
    await Promise.all(Array.from({ length: 10 }, () => call('POST', '/payments', pay('e-cap'))));
    await Promise.all(Array.from({ length: 10 }, () => call('POST', '/payments/e-cap/capture')));
    await call('POST', '/payments', pay('e-void'));
    await Promise.all(Array.from({ length: 5 }, () => call('POST', '/payments/e-void/void')));
    await call('POST', '/payments', pay('e-decl', 'tok_chargeDeclined'));
    await call('POST', '/payments/e-none/void'); // a tombstone: there never was a payment

    const events = await readFeedUntil(service.url, (e) => of(e, 'e-decl').length > 0);
    expect(of(events, 'e-cap')).toEqual([
      [1, 'payment.authorized'],
      [2, 'payment.captured'],
    ]);
    expect(of(events, 'e-void')).toEqual([
      [1, 'payment.authorized'],
      [2, 'payment.voided'],
    ]);
    expect(of(events, 'e-decl')).toEqual([[1, 'payment.declined']]);
    expect(of(events, 'e-none')).toEqual([]);
    expect(events.find((e) => e.aggregateId === 'e-cap' && e.sequence === 2)).toMatchObject({
      aggregateType: 'payment',
      schemaVersion: 1,
      payload: {
        orderId: 'e-cap',
        customerId: 'c-7',
        status: 'CAPTURED',
        amountMinor: 1250,
        currency: 'EUR',
      },
    });
    expect(events.find((e) => e.aggregateId === 'e-decl')!.payload).toMatchObject({
      reason: 'card_declined',
    });
  });
});
