import { OUTBOX_SCHEMA_SQL, type Migration } from '@aio/kit';

/**
 * The monolith's one schema: orders, stock, reviews and notifications in one database, as legacy
 * systems have them. Ids are bigint sequences starting at 1000, so they never look like the UUIDs
 * the new services mint: that difference is what routes a service-created order to the service.
 */
export const MONOLITH_MIGRATIONS: readonly Migration[] = [
  {
    id: '001_legacy',
    sql: `
CREATE TABLE stock (
  sku       text PRIMARY KEY,
  available integer NOT NULL CHECK (available >= 0)
);
CREATE TABLE orders (
  order_id    bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
  customer_id text NOT NULL,
  status      text NOT NULL CHECK (status IN ('APPROVED', 'REJECTED')),
  rejection_reason text,
  items       jsonb NOT NULL,
  total       numeric(14, 2) NOT NULL,
  currency    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON orders (customer_id, order_id DESC);
CREATE TABLE reviews (
  review_id   bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
  sku         text NOT NULL,
  customer_id text NOT NULL,
  rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_by_sku ON reviews (sku, review_id DESC);
CREATE TABLE notifications (
  notification_id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000) PRIMARY KEY,
  customer_id     text NOT NULL,
  channel         text NOT NULL,
  message         text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_by_customer ON notifications (customer_id, notification_id DESC);`,
  },
  {
    // The outbox (served at GET /events), and the legacy backfill: one event per order placed before
    // it, in the order service's event schema, so a read model reading this feed from 0 gets every
    // legacy order once; later ones are recorded as they are placed.
    id: '002_outbox',
    sql: `${OUTBOX_SCHEMA_SQL}
SELECT kit_record_event('order', order_id::text,
         CASE status WHEN 'APPROVED' THEN 'order.approved' ELSE 'order.rejected' END, 1,
         jsonb_strip_nulls(jsonb_build_object('orderId', order_id::text, 'customerId', customer_id,
           'status', status, 'rejectionReason', rejection_reason, 'items', items, 'total', total,
           'currency', currency, 'placedAt', created_at)))
  FROM orders ORDER BY order_id;`,
  },
];
