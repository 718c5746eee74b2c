import { OUTBOX_SCHEMA_SQL, type Migration } from '@aio/kit';

/**
 * Catalog's schema: one row per product (price in the currency's minor units, a version bumped by
 * every change), and the kit's outbox, which records a `product.created` / `product.updated` event
 * in the transaction of every change and serves them as the gap-safe feed `GET /events` that caches
 * invalidate from.
 */
export const migrations: Migration[] = [
  {
    id: '001_products',
    sql: `
CREATE TABLE products (
  sku         text PRIMARY KEY,
  name        text NOT NULL,
  price_minor bigint NOT NULL CHECK (price_minor > 0),
  currency    text NOT NULL,
  version     bigint NOT NULL CHECK (version > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);`,
  },
  { id: '002_outbox', sql: OUTBOX_SCHEMA_SQL },
];
