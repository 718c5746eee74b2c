import { OUTBOX_SCHEMA_SQL, type Migration } from '@aio/kit';

/**
 * Payment's schema: one row per order's payment, and the append-only ledger of PSP operations.
 *
 * `002` makes the payments row the idempotency record of authorize (the request's fingerprint and the
 * answer given) and adds the in-flight states CAPTURING and VOIDING, so no transaction spans a PSP call.
 * `003` adds the kit outbox (payment.authorized / declined / captured / voided, served at `GET /events`)
 * and records one event per payment that existed before, in its current state, so a read model
 * reading the feed from 0 sees them too.
 */
export const migrations: Migration[] = [
  {
    id: '001_payments',
    sql: `
CREATE TABLE payments (
  order_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('PENDING', 'AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED')),
  customer_id text,
  amount_minor bigint,
  currency text,
  decline_reason text,
  psp_reference text,
  captures integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE payment_ledger (
  id bigserial PRIMARY KEY,
  order_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('AUTHORIZE', 'DECLINE', 'CAPTURE', 'VOID')),
  amount_minor bigint NOT NULL,
  currency text,
  psp_reference text,
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_ledger_order ON payment_ledger (order_id);
CREATE FUNCTION payment_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'payment_ledger is append-only';
END $$;
CREATE TRIGGER payment_ledger_append_only BEFORE UPDATE OR DELETE ON payment_ledger
  FOR EACH ROW EXECUTE FUNCTION payment_ledger_append_only();
`,
  },
  {
    id: '002_payment_idempotency_in_row',
    sql: `
ALTER TABLE payments
  ADD COLUMN request_fingerprint text,
  ADD COLUMN authorize_outcome text CHECK (authorize_outcome IN ('AUTHORIZED', 'DECLINED', 'VOIDED'));
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (
  status IN ('PENDING', 'AUTHORIZED', 'DECLINED', 'CAPTURING', 'CAPTURED', 'VOIDING', 'VOIDED')
);
-- authorize answers used to live in the kit's idempotency table: carry them over. Only databases
-- made by an earlier kit have that table (the kit drops it after this migration), so look first.
DO $$ BEGIN
  IF to_regclass('kit_idempotency') IS NOT NULL THEN
    UPDATE payments p
       SET request_fingerprint = k.fingerprint,
           authorize_outcome = CASE k.status_code WHEN 201 THEN 'AUTHORIZED' WHEN 402 THEN 'DECLINED' ELSE 'VOIDED' END
      FROM kit_idempotency k
     WHERE k.scope = 'authorize' AND k.key = p.order_id AND k.status_code IS NOT NULL;
  END IF;
END $$;
`,
  },
  {
    id: '003_outbox',
    sql: `${OUTBOX_SCHEMA_SQL}
SELECT kit_record_event('payment', order_id, 'payment.' || lower(status), 1,
         jsonb_build_object('orderId', order_id, 'customerId', customer_id, 'status', status,
           'amountMinor', amount_minor, 'currency', currency, 'reason', decline_reason))
  FROM payments
 WHERE status IN ('AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED') AND customer_id IS NOT NULL
 ORDER BY created_at;
`,
  },
];
