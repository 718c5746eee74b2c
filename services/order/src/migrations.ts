import { OUTBOX_SCHEMA_SQL, SAGA_SCHEMA_SQL, type Migration } from '@aio/kit';

/** The order service's tables: orders, and the saga and outbox tables from `@aio/kit` in the same database. */
export const ORDER_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_orders',
    sql: `
CREATE TABLE orders (
  order_id         uuid PRIMARY KEY,
  customer_id      text NOT NULL,
  status           text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
  rejection_reason text,
  items            jsonb NOT NULL,
  total            numeric(14, 2) NOT NULL,
  currency         text NOT NULL,
  idempotency_key  text UNIQUE,
  request_hash     text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC);`,
  },
  { id: '002_saga', sql: SAGA_SCHEMA_SQL },
  // Totals in currencies with three decimals (KWD, BHD...) are stored without rounding.
  { id: '003_order_total_scale', sql: 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(16, 3)' },
  // order.placed / approved / rejected, written with the order (kit outbox, served at GET /events);
  // and one event per order that existed before, in its current state, for readers from position 0
  {
    id: '005_outbox',
    sql: `${OUTBOX_SCHEMA_SQL}
SELECT kit_record_event('order', order_id::text,
         CASE status WHEN 'PENDING' THEN 'order.placed' WHEN 'APPROVED' THEN 'order.approved' ELSE 'order.rejected' END, 1,
         jsonb_strip_nulls(jsonb_build_object('orderId', order_id, 'customerId', customer_id, 'status', status,
           'rejectionReason', rejection_reason, 'items', items, 'total', total, 'currency', currency,
           'placedAt', created_at)))
  FROM orders ORDER BY created_at;`,
  },
  // Idempotency keys are each customer's own (issue 15): alice's key never finds, blocks or
  // replays bob's order. Keys were unique over all customers, so the pairs are unique already.
  {
    id: '006_idempotency_key_per_customer',
    sql: `ALTER TABLE orders DROP CONSTRAINT orders_idempotency_key_key;
ALTER TABLE orders ADD CONSTRAINT orders_customer_idempotency_key UNIQUE (customer_id, idempotency_key);`,
  },
];
