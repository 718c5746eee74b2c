import { createPool, migrate, parseConfig, serviceConfigSchema, type FeedEvent } from '@aio/kit';
import {
  callJson,
  createTestDatabase,
  DEV_TOKEN_AUDIENCE,
  DevTokenIssuer,
  IssuerTokens,
  readFeedUntil,
  type TestDatabase,
} from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MONOLITH_MIGRATIONS } from '../src/migrations.js';
import { runMonolith } from '../src/service.js';

let db: TestDatabase;
let issuer: DevTokenIssuer;

beforeAll(async () => {
  db = await createTestDatabase('monolith_feed');
  issuer = await DevTokenIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
  await db?.drop();
});

describe('the monolith feed', () => {
  test('serves the orders placed before the outbox once from position 0, then new ones as they are placed', async () => {
    // a database as the monolith had it before the outbox: two orders already there
    const pool = createPool(db.url);
    await migrate(pool, MONOLITH_MIGRATIONS.slice(0, 1));
    await pool.query(
      `INSERT INTO orders (customer_id, status, rejection_reason, items, total, currency, created_at) VALUES
        ('old-1', 'APPROVED', NULL, '[{"sku":"MUG","quantity":1,"unitPrice":3.5}]', 3.5, 'EUR', '2024-01-02T03:04:05Z'),
        ('old-2', 'REJECTED', 'INSUFFICIENT_STOCK:MUG', '[{"sku":"MUG","quantity":9,"unitPrice":3.5}]', 31.5, 'EUR', now())`,
    );
    await pool.end();
    const config = parseConfig(serviceConfigSchema, {
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AUTH_ISSUER: issuer.url,
      AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
    });
    const svc = await runMonolith(config, false);
    try {
      await callJson(svc.url, 'PUT', '/api/stock/MUG', { available: 5 });
      const placed = await callJson<{ orderId: string }>(
        svc.url,
        'POST',
        '/api/orders',
        {
          customerId: 'new-1',
          items: [{ sku: 'MUG', quantity: 2, unitPrice: 3.5 }],
          currency: 'EUR',
          paymentToken: 'tok_visa',
        },
        await new IssuerTokens(issuer.url).headers('new-1'),
      );
      const events = await readFeedUntil(svc.url, (e) =>
        e.some((x) => x.payload && (x.payload as { customerId?: string }).customerId === 'new-1'),
      );
      const view = (e: FeedEvent) => [
        e.aggregateType,
        e.type,
        e.sequence,
        (e.payload as { customerId: string }).customerId,
      ];
      expect(events.map(view)).toEqual([
        ['order', 'order.approved', 1, 'old-1'],
        ['order', 'order.rejected', 1, 'old-2'],
        ['order', 'order.approved', 1, 'new-1'],
      ]);
      expect(events[0]!.payload).toEqual({
        orderId: events[0]!.aggregateId,
        customerId: 'old-1',
        status: 'APPROVED',
        items: [{ sku: 'MUG', quantity: 1, unitPrice: 3.5 }],
        total: 3.5,
        currency: 'EUR',
        placedAt: '2024-01-02T03:04:05+00:00',
      });
      expect(events[1]!.payload).toMatchObject({ rejectionReason: 'INSUFFICIENT_STOCK:MUG' });
      expect(events[2]).toMatchObject({
        aggregateId: placed.body.orderId,
        payload: { orderId: placed.body.orderId, status: 'APPROVED', total: 7, placedAt: expect.any(String) },
      });
    } finally {
      await svc.close();
    }
  });
});
