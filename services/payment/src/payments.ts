import { fromMinorUnits, keyReusedProblem, requestFingerprint, rowEventCtes } from '@aio/kit';
import type { Pool } from '@aio/kit';
import type { AuthorizeResult, PaymentProvider } from './psp.js';

/** `POST /payments` body. */
export interface AuthorizeInput {
  readonly orderId: string;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentToken: string;
}

/** A response: HTTP status and JSON body. */
export interface PaymentResponse {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

type Status = 'PENDING' | 'AUTHORIZED' | 'DECLINED' | 'CAPTURING' | 'CAPTURED' | 'VOIDING' | 'VOIDED';
type Outcome = 'AUTHORIZED' | 'DECLINED' | 'VOIDED';

interface PaymentRow {
  status: Status;
  amount_minor: string | null;
  currency: string | null;
  decline_reason: string | null;
  psp_reference: string | null;
  captures: number;
  request_fingerprint: string | null;
  authorize_outcome: Outcome | null;
}

/** A row as a claim statement returns it: `moved` when this statement made the transition. */
interface ClaimedRow extends PaymentRow {
  moved: boolean;
}

/**
 * The outbox CTEs for the payment rows in CTE `from`, as their state after the change
 * (`payment.authorized`, `payment.declined`, `payment.captured`, `payment.voided`, from the status):
 * recorded by the very statement that makes the transition, so an event exists exactly when the
 * transition committed. Intermediate states (PENDING, CAPTURING, VOIDING) record none.
 */
function paymentEvents(from: string, where?: string): string {
  return rowEventCtes({
    from,
    aggregateType: 'payment',
    aggregateId: 'order_id',
    type: `'payment.' || lower(status)`,
    payload: `jsonb_build_object('orderId', order_id, 'customerId', customer_id, 'status', status,
      'amountMinor', amount_minor, 'currency', currency, 'reason', decline_reason)`,
    where: `status IN ('AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED')${where ? ` AND ${where}` : ''}`,
  });
}

/** Claims an authorization: inserts the PENDING row, or returns the row already there. */
const CLAIM_AUTHORIZE = `
WITH claimed AS (
  INSERT INTO payments (order_id, status, customer_id, amount_minor, currency, request_fingerprint)
  VALUES ($1, 'PENDING', $2, $3, $4, $5)
  ON CONFLICT (order_id) DO NOTHING
  RETURNING *
)
SELECT true AS moved, * FROM claimed
UNION ALL
SELECT false AS moved, * FROM payments WHERE order_id = $1`;

/**
 * Records authorize's outcome $3 (also the new status) if the row still has status $2 and no outcome,
 * and appends its ledger rows ($6 kinds, $7 notes) and its event in the same statement (none when
 * the row was VOIDED already: its void recorded it); `finished` is 0 otherwise.
 */
const FINISH_AUTHORIZE = `
WITH done AS (
  UPDATE payments
     SET status = $3, authorize_outcome = $3, psp_reference = $4, decline_reason = $5, updated_at = now()
   WHERE order_id = $1 AND status = $2 AND authorize_outcome IS NULL
  RETURNING *
), ledger AS (
  INSERT INTO payment_ledger (order_id, kind, amount_minor, currency, psp_reference, note)
  SELECT done.order_id, k.kind, done.amount_minor, done.currency, $4::text, k.note
    FROM done, unnest($6::text[], $7::text[]) WITH ORDINALITY AS k (kind, note, n)
   ORDER BY k.n
), ${paymentEvents('done', `$2 <> 'VOIDED'`)}
SELECT count(*)::int AS finished FROM done`;

/** Moves a payment from status $2 to $3, or returns it as it is. */
const MOVE = `
WITH moved AS (
  UPDATE payments SET status = $3, updated_at = now() WHERE order_id = $1 AND status = $2 RETURNING *
)
SELECT true AS moved, * FROM moved
UNION ALL
SELECT false AS moved, * FROM payments WHERE order_id = $1 AND NOT EXISTS (SELECT 1 FROM moved)`;

/** Finishes a PSP operation claimed by {@link MOVE} ($2 → $3) with its ledger row ($5) and its event, once. */
const FINISH = `
WITH done AS (
  UPDATE payments SET status = $3, captures = captures + $4, updated_at = now()
   WHERE order_id = $1 AND status = $2
  RETURNING *
), ledger AS (
  INSERT INTO payment_ledger (order_id, kind, amount_minor, currency, psp_reference)
  SELECT order_id, $5::text, amount_minor, currency, psp_reference FROM done
), ${paymentEvents('done')}
SELECT count(*)::int AS finished FROM done`;

/**
 * Void's claim: a VOIDED tombstone (with its ledger row) when there is no payment, PENDING → VOIDED
 * (the authorize in flight will void its own authorization; its event is recorded here), AUTHORIZED →
 * VOIDING; else the row as it is. A tombstone records no event: there never was a payment.
 */
const CLAIM_VOID = `
WITH tombstone AS (
  INSERT INTO payments (order_id, status) VALUES ($1, 'VOIDED')
  ON CONFLICT (order_id) DO NOTHING
  RETURNING *
), tombstone_ledger AS (
  INSERT INTO payment_ledger (order_id, kind, amount_minor, note)
  SELECT order_id, 'VOID', 0, 'no authorization: tombstone' FROM tombstone
), moved AS (
  UPDATE payments SET status = CASE status WHEN 'PENDING' THEN 'VOIDED' ELSE 'VOIDING' END, updated_at = now()
   WHERE order_id = $1 AND status IN ('PENDING', 'AUTHORIZED')
  RETURNING *
), ${paymentEvents('moved')}
SELECT true AS moved, * FROM tombstone
UNION ALL
SELECT true AS moved, * FROM moved
UNION ALL
SELECT false AS moved, * FROM payments WHERE order_id = $1 AND NOT EXISTS (SELECT 1 FROM moved)`;

/**
 * A claim statement reads the row in its snapshot; when its conditional write waited for a concurrent
 * one and then no longer matched, what it read is stale, and it runs again. Each rerun follows a
 * transition that someone else made, and a payment has few of them.
 */
const MAX_CLAIM_ATTEMPTS = 8;

const refused = (orderId: string, status: string): PaymentResponse => ({
  statusCode: 409,
  body: { orderId, status, reason: `PAYMENT_${status}` },
});

/** Authorize's answer for an outcome. */
function answer(orderId: string, outcome: Outcome, declineReason: string | null): PaymentResponse {
  if (outcome === 'AUTHORIZED') return { statusCode: 201, body: { orderId, status: 'AUTHORIZED' } };
  if (outcome === 'DECLINED')
    return { statusCode: 402, body: { orderId, status: 'DECLINED', reason: declineReason } };
  return refused(orderId, 'VOIDED');
}

/** The answer authorize gave for this row, or undefined while it is in flight. */
function authorizeAnswer(orderId: string, row: PaymentRow): PaymentResponse | undefined {
  const outcome = row.authorize_outcome ?? outcomeWithoutFingerprint(row);
  return outcome && answer(orderId, outcome, row.decline_reason);
}

/**
 * A row without a fingerprint is a void's tombstone, or was written before migration 002 by a
 * version that kept authorize's answer elsewhere: its status tells what that answer was.
 */
function outcomeWithoutFingerprint(row: PaymentRow): Outcome | undefined {
  if (row.request_fingerprint !== null || row.status === 'PENDING') return undefined;
  if (row.status === 'DECLINED') return 'DECLINED';
  return row.status === 'VOIDED' && row.amount_minor === null ? 'VOIDED' : 'AUTHORIZED';
}

/**
 * Payment's operations over its own database and a PSP.
 *
 * No transaction spans a PSP call. Each operation records its intent in one autocommit statement
 * (PENDING, CAPTURING, VOIDING), calls the PSP (idempotent per orderId / reference), then finishes
 * with one conditional statement that also appends the ledger row, so of concurrent callers exactly
 * one finishes; a caller that finds the intent left behind (a crash, a PSP error) resumes it.
 */
export class Payments {
  constructor(
    private readonly pool: Pool,
    private readonly psp: PaymentProvider,
  ) {}

  /**
   * Authorizes once per orderId; the payments row is the idempotency record. A retry or concurrent
   * duplicate gets the first answer (201, 402), or resumes a PENDING one; other details (amount,
   * token...) throw a 422 problem (the kit's replay rule, `keyReusedProblem`). An order voided before the authorization
   * finished is refused with 409 VOIDED, and the PSP authorization made meanwhile is voided.
   */
  async authorize(input: AuthorizeInput, amountMinor: number): Promise<PaymentResponse> {
    const { orderId } = input;
    // the digest of this array is the one earlier versions stored (JSON.stringify of the same array)
    const fingerprint = requestFingerprint([
      input.customerId,
      amountMinor,
      input.currency,
      input.paymentToken,
    ]);
    const row = await this.claimAuthorization(input, amountMinor, fingerprint);
    if (!row.moved) {
      if (row.request_fingerprint !== null && row.request_fingerprint !== fingerprint) {
        throw keyReusedProblem(`payment for order ${orderId}`, orderId);
      }
      const earlier = authorizeAnswer(orderId, row);
      if (earlier) return earlier;
      // VOIDED while an earlier attempt was at the PSP: that attempt voids what it authorized
      if (row.status !== 'PENDING') return refused(orderId, 'VOIDED');
    }
    const result = await this.psp.authorize({
      orderId,
      amountMinor,
      currency: input.currency,
      paymentToken: input.paymentToken,
    });
    if (await this.finishAuthorization(orderId, 'PENDING', result)) {
      return result.approved
        ? answer(orderId, 'AUTHORIZED', null)
        : answer(orderId, 'DECLINED', result.reason);
    }
    // The row moved on: a concurrent duplicate finished first, or a void won while we were at the PSP.
    const current = (await this.read(orderId))!;
    const finished = authorizeAnswer(orderId, current);
    if (finished) return finished;
    // Voided first: undo at the PSP, then record both effects (one of the concurrent losers does).
    if (result.approved) await this.psp.void(result.reference);
    await this.finishAuthorization(orderId, 'VOIDED', result);
    return refused(orderId, 'VOIDED');
  }

  /**
   * Captures an authorization once (the `captures` column stays 1); 409 after a void or a decline,
   * and while a void is in flight; undefined (404) when unknown.
   */
  async capture(orderId: string): Promise<PaymentResponse | undefined> {
    const row = await this.move(orderId, 'AUTHORIZED', 'CAPTURING');
    if (!row) return undefined;
    const captured: PaymentResponse = { statusCode: 200, body: { orderId, status: 'CAPTURED' } };
    switch (row.status) {
      case 'CAPTURED':
        return captured;
      case 'CAPTURING':
        await this.psp.capture(row.psp_reference!, Number(row.amount_minor));
        await this.finish(orderId, 'CAPTURING', 'CAPTURED', 1, 'CAPTURE');
        return captured;
      case 'VOIDING':
      case 'VOIDED':
        return refused(orderId, 'VOIDED');
      default:
        return refused(orderId, row.status);
    }
  }

  /**
   * Voids an authorization; safe when there is nothing to undo. An unknown order gets a VOIDED
   * tombstone (so a late authorize is refused), an authorization still at the PSP is marked VOIDED
   * (its authorize then voids it and answers 409), a declined one answers VOIDED unchanged.
   * 409 after a capture, or while one is in flight.
   */
  async void(orderId: string): Promise<PaymentResponse> {
    const row = await this.claimVoid(orderId);
    const voided: PaymentResponse = { statusCode: 200, body: { orderId, status: 'VOIDED' } };
    if (row.status === 'CAPTURING' || row.status === 'CAPTURED') return refused(orderId, 'CAPTURED');
    if (row.status === 'VOIDING') {
      await this.psp.void(row.psp_reference!);
      await this.finish(orderId, 'VOIDING', 'VOIDED', 0, 'VOID');
    }
    return voided;
  }

  /** The payment, or undefined. */
  async get(orderId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.read(orderId);
    if (!row) return undefined;
    return {
      orderId,
      status: row.status,
      amount:
        row.amount_minor === null || row.currency === null
          ? 0
          : fromMinorUnits(Number(row.amount_minor), row.currency),
      currency: row.currency,
      captures: row.captures,
      ...(row.decline_reason ? { reason: row.decline_reason } : {}),
    };
  }

  private async read(orderId: string): Promise<PaymentRow | undefined> {
    const { rows } = await this.pool.query<PaymentRow>('SELECT * FROM payments WHERE order_id = $1', [
      orderId,
    ]);
    return rows[0];
  }

  private async claimAuthorization(
    input: AuthorizeInput,
    amountMinor: number,
    fingerprint: string,
  ): Promise<ClaimedRow> {
    const values = [input.orderId, input.customerId, amountMinor, input.currency, fingerprint];
    return (await this.claim(CLAIM_AUTHORIZE, values, () => false, true))!;
  }

  private async claimVoid(orderId: string): Promise<ClaimedRow> {
    const stale = (row: ClaimedRow) => row.status === 'PENDING' || row.status === 'AUTHORIZED';
    return (await this.claim(CLAIM_VOID, [orderId], stale, true))!;
  }

  /** {@link MOVE}; undefined when there is no payment. */
  private move(orderId: string, from: Status, to: Status): Promise<ClaimedRow | undefined> {
    return this.claim(MOVE, [orderId, from, to], (row) => row.status === from, false);
  }

  /**
   * Runs a claim statement until what it returns is current: a row it did not move but that still
   * showed the status it would have moved (`stale`), or, when `mustExist`, no row at all (the
   * conflicting row was inserted after the statement's snapshot), means a concurrent change won.
   */
  private async claim(
    sql: string,
    values: unknown[],
    stale: (row: ClaimedRow) => boolean,
    mustExist: boolean,
  ): Promise<ClaimedRow | undefined> {
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      const row = (await this.pool.query<ClaimedRow>(sql, values)).rows[0];
      if (row ? row.moved || !stale(row) : !mustExist) return row;
    }
    throw new Error(`payment ${String(values[0])}: no stable state after ${MAX_CLAIM_ATTEMPTS} attempts`);
  }

  /**
   * Records the PSP's answer to an authorization if the row still has status `from`; a row VOIDED
   * meanwhile keeps its status and gets the PSP effects (AUTHORIZE and its VOID, or DECLINE) once.
   *
   * @returns whether this call recorded it
   */
  private async finishAuthorization(
    orderId: string,
    from: 'PENDING' | 'VOIDED',
    result: AuthorizeResult,
  ): Promise<boolean> {
    const outcome: Outcome = from === 'VOIDED' ? 'VOIDED' : result.approved ? 'AUTHORIZED' : 'DECLINED';
    const [reference, reason] = result.approved ? [result.reference, null] : [null, result.reason];
    const ledger = !result.approved
      ? [['DECLINE', result.reason]]
      : from === 'VOIDED'
        ? [
            ['AUTHORIZE', null],
            ['VOID', 'the order was voided while authorizing'],
          ]
        : [['AUTHORIZE', null]];
    const { rows } = await this.pool.query<{ finished: number }>(FINISH_AUTHORIZE, [
      orderId,
      from,
      outcome,
      reference,
      reason,
      ledger.map(([kind]) => kind),
      ledger.map(([, note]) => note),
    ]);
    return rows[0]!.finished === 1;
  }

  /** {@link FINISH}: `from` → `to`, `captures` + `addCaptures`, one ledger row of `kind`, once. */
  private async finish(
    orderId: string,
    from: Status,
    to: Status,
    addCaptures: number,
    kind: 'CAPTURE' | 'VOID',
  ): Promise<void> {
    await this.pool.query(FINISH, [orderId, from, to, addCaptures, kind]);
  }
}
