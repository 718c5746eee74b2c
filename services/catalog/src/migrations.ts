import type { Migration } from '@aio/kit';

/**
 * Catalog's schema: one row per product (price in the currency's minor units, a version bumped by
 * every change), and the append-only feed of changes that caches invalidate from.
 *
 * A change's `position` is taken under one transaction-scoped advisory lock held until commit (see
 * product-store.ts), so positions commit in order and a reader never passes one that commits later.
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
);
CREATE TABLE product_changes (
  position    bigint PRIMARY KEY,
  sku         text NOT NULL,
  version     bigint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('CREATED', 'UPDATED')),
  product     jsonb NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sku, version)
);
CREATE FUNCTION product_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'product_changes is append-only';
END $$;
CREATE TRIGGER product_changes_append_only BEFORE UPDATE OR DELETE ON product_changes
  FOR EACH ROW EXECUTE FUNCTION product_changes_append_only();
`,
  },
];
