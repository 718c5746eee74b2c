import type { Migration } from '@aio/kit';

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
];
