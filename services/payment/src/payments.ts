import { createHash } from 'node:crypto';
import { withIdempotency, withTransaction } from '@aio/kit';
import type { IdempotentResponse, Pool, PoolClient } from '@aio/kit';
import type { PaymentProvider } from './psp.js';

/** `POST /payments` body. */
export interface AuthorizeInput {
  readonly orderId: string;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentToken: string;
}

/** A response: HTTP status and JSON body. */
export type PaymentResponse = IdempotentResponse<Record<string, unknown>>;

interface PaymentRow {
  status: 'PENDING' | 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED';
  amount_minor: string | null;
  currency: string | null;
  decline_reason: string | null;
  psp_reference: string | null;
  captures: number;
}

const refused = (orderId: string, status: string): PaymentResponse => ({
  statusCode: 409,
  body: { orderId, status, reason: `PAYMENT_${status}` },
});

/**
 * Payment's operations over its own database and a PSP.
 *
 * Each runs in one transaction holding the payment row's lock, so concurrent calls for one order
 * serialize; the PSP call happens inside it, keyed by orderId on the PSP side too.
 */
export class Payments {
  constructor(
    private readonly pool: Pool,
    private readonly psp: PaymentProvider,
  ) {}

  /**
   * Authorizes once per orderId. Concurrent duplicates wait for the first and get its response; a
   * duplicate with other details (amount, token...) is refused by the idempotency helper.
   * An order already voided (a compensation that arrived first) is refused with 409 VOIDED.
   */
  async authorize(input: AuthorizeInput, amountMinor: number): Promise<PaymentResponse> {
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([input.customerId, amountMinor, input.currency, input.paymentToken]))
      .digest('hex');
    const result = await withIdempotency(
      this.pool,
      { scope: 'authorize', key: input.orderId, fingerprint },
      (client) => this.authorizeOnce(client, input, amountMinor),
    );
    return { statusCode: result.statusCode, body: result.body };
  }

  private async authorizeOnce(
    client: PoolClient,
    input: AuthorizeInput,
    amountMinor: number,
  ): Promise<PaymentResponse> {
    const { orderId } = input;
    const claimed = await client.query(
      `INSERT INTO payments (order_id, status, customer_id, amount_minor, currency)
       VALUES ($1, 'PENDING', $2, $3, $4) ON CONFLICT (order_id) DO NOTHING`,
      [orderId, input.customerId, amountMinor, input.currency],
    );
    if (claimed.rowCount === 0) {
      const row = await this.lockRow(client, orderId);
      return refused(orderId, row!.status);
    }
    const result = await this.psp.authorize({
      orderId,
      amountMinor,
      currency: input.currency,
      paymentToken: input.paymentToken,
    });
    if (result.approved) {
      await client.query(
        "UPDATE payments SET status = 'AUTHORIZED', psp_reference = $2, updated_at = now() WHERE order_id = $1",
        [orderId, result.reference],
      );
      await this.append(client, orderId, 'AUTHORIZE', amountMinor, input.currency, result.reference);
      return { statusCode: 201, body: { orderId, status: 'AUTHORIZED' } };
    }
    await client.query(
      "UPDATE payments SET status = 'DECLINED', decline_reason = $2, updated_at = now() WHERE order_id = $1",
      [orderId, result.reason],
    );
    await this.append(client, orderId, 'DECLINE', amountMinor, input.currency, null, result.reason);
    return { statusCode: 402, body: { orderId, status: 'DECLINED', reason: result.reason } };
  }

  /** Captures an authorization once; 409 after a void or a decline, 404 when unknown. */
  capture(orderId: string): Promise<PaymentResponse | undefined> {
    return withTransaction(this.pool, async (client) => {
      const row = await this.lockRow(client, orderId);
      if (!row) return undefined;
      if (row.status === 'CAPTURED') return { statusCode: 200, body: { orderId, status: 'CAPTURED' } };
      if (row.status !== 'AUTHORIZED') return refused(orderId, row.status);
      const amount = Number(row.amount_minor);
      await this.psp.capture(row.psp_reference!, amount);
      await client.query(
        "UPDATE payments SET status = 'CAPTURED', captures = captures + 1, updated_at = now() WHERE order_id = $1",
        [orderId],
      );
      await this.append(client, orderId, 'CAPTURE', amount, row.currency, row.psp_reference);
      return { statusCode: 200, body: { orderId, status: 'CAPTURED' } };
    });
  }

  /**
   * Voids an authorization; safe when there is nothing to undo. An unknown order gets a VOIDED
   * tombstone (so a late authorize is refused), a declined one answers VOIDED unchanged. 409 after a capture.
   */
  void(orderId: string): Promise<PaymentResponse> {
    return withTransaction(this.pool, async (client) => {
      const tombstone = await client.query(
        "INSERT INTO payments (order_id, status) VALUES ($1, 'VOIDED') ON CONFLICT (order_id) DO NOTHING",
        [orderId],
      );
      if (tombstone.rowCount === 1) {
        await this.append(client, orderId, 'VOID', 0, null, null, 'no authorization: tombstone');
        return { statusCode: 200, body: { orderId, status: 'VOIDED' } };
      }
      const row = (await this.lockRow(client, orderId))!;
      if (row.status === 'CAPTURED') return refused(orderId, 'CAPTURED');
      if (row.status === 'AUTHORIZED') {
        await this.psp.void(row.psp_reference!);
        await client.query("UPDATE payments SET status = 'VOIDED', updated_at = now() WHERE order_id = $1", [
          orderId,
        ]);
        await this.append(client, orderId, 'VOID', Number(row.amount_minor), row.currency, row.psp_reference);
      }
      return { statusCode: 200, body: { orderId, status: 'VOIDED' } };
    });
  }

  /** The payment, or undefined. */
  async get(orderId: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.pool.query<PaymentRow>('SELECT * FROM payments WHERE order_id = $1', [
      orderId,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      orderId,
      status: row.status,
      amount: row.amount_minor === null ? 0 : Number(row.amount_minor) / 100,
      currency: row.currency,
      captures: row.captures,
      ...(row.decline_reason ? { reason: row.decline_reason } : {}),
    };
  }

  private async lockRow(client: PoolClient, orderId: string): Promise<PaymentRow | undefined> {
    const { rows } = await client.query<PaymentRow>('SELECT * FROM payments WHERE order_id = $1 FOR UPDATE', [
      orderId,
    ]);
    return rows[0];
  }

  private async append(
    client: PoolClient,
    orderId: string,
    kind: 'AUTHORIZE' | 'DECLINE' | 'CAPTURE' | 'VOID',
    amountMinor: number,
    currency: string | null,
    reference: string | null,
    note?: string,
  ): Promise<void> {
    await client.query(
      'INSERT INTO payment_ledger (order_id, kind, amount_minor, currency, psp_reference, note) VALUES ($1, $2, $3, $4, $5, $6)',
      [orderId, kind, amountMinor, currency, reference, note ?? null],
    );
  }
}
