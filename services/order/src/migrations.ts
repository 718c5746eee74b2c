import { SAGA_SCHEMA_SQL, type Migration } from '@aio/kit';

/** The order service's tables: orders, and the saga tables from `@aio/kit` in the same database. */
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
];
