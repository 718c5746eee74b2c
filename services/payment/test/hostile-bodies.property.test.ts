import fc from 'fast-check';
import { parseConfig, toMinorUnits } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { createTestDatabase } from '@aio/kit/testing';
import type { TestDatabase } from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  body,
  CASES,
  casesRun,
  expectNoServerError,
  field,
  hostile,
  isProblem,
  send,
} from '../../kit/test/hostile-input.js';
import { paymentConfigSchema } from '../src/config.js';
import type { PaymentConfig } from '../src/config.js';
import { startPayment } from '../src/service.js';

/**
 * Every endpoint's body, valid and hostile: each case gets a 4xx problem+json and writes nothing,
 * or succeeds with its invariants (one row with the exact minor units, one ledger row per PSP effect).
 */

let db: TestDatabase;
let service: RunningService<PaymentConfig>;
let seq = 0;
const authorized: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('payment_property');
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
  console.log(`payment property cases run: ${casesRun.count}`);
});

async function snapshot(): Promise<{ payments: unknown[]; ledger: number }> {
  const payments = (
    await service.pool.query(
      'SELECT order_id, status, amount_minor, captures FROM payments ORDER BY order_id',
    )
  ).rows;
  const ledger = (await service.pool.query('SELECT count(*)::int AS n FROM payment_ledger')).rows[0]
    .n as number;
  return { payments, ledger };
}

const amount = field(
  fc.oneof(
    fc.integer({ min: 1, max: 1_000_000_000 }).map((cents) => cents / 100),
    fc.constantFrom(0.01, 49.99, 10_000_000),
  ),
);

describe('payment bodies (property)', () => {
  test('POST /payments authorizes the exact minor units once, declines, or refuses and writes nothing', async () => {
    const payload = body({
      orderId: field(fc.constant('VALID'), 6),
      customerId: field(fc.constantFrom('c-1', 'user@example.com', 'crash:none')),
      amount,
      currency: field(fc.constantFrom('EUR', 'USD', 'JPY', 'KWD')),
      paymentToken: field(fc.constantFrom('tok_visa', 'tok_chargeDeclined', 'tok_unknown')),
    });
    await fc.assert(
      fc.asyncProperty(payload, async (raw) => {
        casesRun.count++;
        const sent =
          raw && typeof raw === 'object' && (raw as { orderId?: unknown }).orderId === 'VALID'
            ? { ...raw, orderId: `pp-${seq++}` }
            : raw;
        const before = await snapshot();
        const answer = await send(`${service.url}/payments`, 'POST', sent);
        expectNoServerError(answer, sent);
        const after = await snapshot();
        if (isProblem(answer)) {
          expect(after).toEqual(before);
          return;
        }
        const p = sent as { orderId: string; amount: number; currency: string };
        expect([201, 402]).toContain(answer.status);
        const { rows } = await service.pool.query(
          'SELECT status, amount_minor FROM payments WHERE order_id = $1',
          [p.orderId],
        );
        expect(rows).toEqual([
          {
            status: answer.status === 201 ? 'AUTHORIZED' : 'DECLINED',
            amount_minor: String(toMinorUnits(p.amount, p.currency, 'amount')),
          },
        ]);
        expect(after.ledger).toBe(before.ledger + 1);
        if (answer.status === 201) authorized.push(p.orderId);
      }),
      { numRuns: CASES * 2 },
    );
  });

  test('capture and void take any body (or none) and refuse what they cannot do with a problem or a 409', async () => {
    const target = fc.oneof(
      { arbitrary: fc.nat().map((n) => authorized[n % Math.max(1, authorized.length)] ?? 'none'), weight: 4 },
      { arbitrary: fc.constantFrom('x'.repeat(200), '%00', 'é', 'unknown-1'), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('capture', 'void'),
        target,
        fc.option(hostile, { freq: 2 }),
        async (action, id, payload) => {
          casesRun.count++;
          const before = await snapshot();
          const answer = await send(
            `${service.url}/payments/${encodeURIComponent(id)}/${action}`,
            'POST',
            payload ?? undefined,
          );
          expectNoServerError(answer, { action, id, payload });
          if (isProblem(answer) && answer.status !== 404) expect(await snapshot()).toEqual(before);
          if (answer.status === 200) {
            const { rows } = await service.pool.query(
              'SELECT status, captures FROM payments WHERE order_id = $1',
              [id],
            );
            expect(rows[0].status).toBe(action === 'capture' ? 'CAPTURED' : 'VOIDED');
            expect(rows[0].captures).toBe(action === 'capture' ? 1 : 0);
          }
        },
      ),
      { numRuns: CASES },
    );
  });
});
