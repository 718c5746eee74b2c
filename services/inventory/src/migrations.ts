import type { Migration } from '@aio/kit';

/** Inventory's schema: products, reservations and the append-only stock ledger. */
export const migrations: Migration[] = [
  {
    id: '001_inventory',
    sql: `
CREATE TABLE products (
  sku text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE reservations (
  order_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'REJECTED')),
  items jsonb NOT NULL,
  expires_at timestamptz,
  reason text,
  sku text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_active ON reservations (expires_at) WHERE status = 'RESERVED';
CREATE TABLE stock_ledger (
  id bigserial PRIMARY KEY,
  sku text NOT NULL,
  order_id text,
  kind text NOT NULL CHECK (kind IN ('ADJUST', 'RESERVE', 'COMMIT', 'RELEASE', 'EXPIRE')),
  d_available integer NOT NULL,
  d_reserved integer NOT NULL,
  d_sold integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_ledger_sku ON stock_ledger (sku);
CREATE FUNCTION stock_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'stock_ledger is append-only';
END $$;
CREATE TRIGGER stock_ledger_append_only BEFORE UPDATE OR DELETE ON stock_ledger
  FOR EACH ROW EXECUTE FUNCTION stock_ledger_append_only();
`,
  },
];
