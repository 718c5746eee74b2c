import { OUTBOX_SCHEMA_SQL, type Migration } from '@aio/kit';

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
  {
    // One round trip per ledger write (StockLedger.record): the logic that ran as 4 to 6 statements in a
    // client transaction, unchanged. PL/pgSQL in READ COMMITTED takes a fresh snapshot per statement, so
    // a concurrent duplicate waits on the INSERT, then finds and locks the committed row, as before.
    id: '002_record_transition',
    sql: `
CREATE FUNCTION inventory_record_transition(
  p_order_id text, p_status text, p_items jsonb, p_expires_at timestamptz, p_reason text, p_sku text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_from text := 'NONE';
  v_kinds text[];
BEGIN
  INSERT INTO reservations (order_id, status, items, expires_at, reason, sku)
  VALUES (p_order_id, p_status, p_items, p_expires_at, p_reason, p_sku)
  ON CONFLICT (order_id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT status INTO STRICT v_from FROM reservations WHERE order_id = p_order_id FOR UPDATE;
    -- Monotonic: only a RESERVED row moves on, and never back to RESERVED.
    IF v_from <> 'RESERVED' OR p_status = 'RESERVED' THEN
      RETURN;
    END IF;
    UPDATE reservations SET status = p_status, updated_at = now() WHERE order_id = p_order_id;
  END IF;
  -- A rejection holds nothing; a tombstone (release of an unknown order) has no items.
  IF p_status = 'REJECTED' OR jsonb_array_length(p_items) = 0 THEN
    RETURN;
  END IF;
  -- NONE -> X books the reservation first, so a reservation first seen finished still nets out.
  v_kinds := CASE WHEN v_from = 'NONE' THEN ARRAY['RESERVE'] ELSE ARRAY[]::text[] END
    || CASE p_status
         WHEN 'COMMITTED' THEN ARRAY['COMMIT']
         WHEN 'RELEASED' THEN ARRAY['RELEASE']
         WHEN 'EXPIRED' THEN ARRAY['EXPIRE']
         ELSE ARRAY[]::text[]
       END;
  INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold)
  SELECT i.item->>'sku', p_order_id, k.kind,
         q * CASE k.kind WHEN 'RESERVE' THEN -1 WHEN 'COMMIT' THEN 0 ELSE 1 END,
         q * CASE k.kind WHEN 'RESERVE' THEN 1 ELSE -1 END,
         q * CASE k.kind WHEN 'COMMIT' THEN 1 ELSE 0 END
  FROM unnest(v_kinds) WITH ORDINALITY AS k(kind, kn)
  CROSS JOIN jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
  CROSS JOIN LATERAL (SELECT (i.item->>'quantity')::integer AS q) AS quantity
  ORDER BY k.kn, i.n;
END $$;
`,
  },
  {
    // A RESERVED row moves on with the items it was reserved with, whatever the caller sends: a
    // release whose Redis record was lost (Redis restarted empty) sends none, and used to leave the
    // RESERVE entry without its RELEASE, so the units stayed reserved in the ledger for ever.
    // It also returns the state it found (NONE when it inserted the row): a reserve that Redis
    // decided afresh for an order Postgres already had means Redis lost that record.
    id: '003_transition_books_reserved_items',
    sql: `
DROP FUNCTION inventory_record_transition(text, text, jsonb, timestamptz, text, text);
CREATE FUNCTION inventory_record_transition(
  p_order_id text, p_status text, p_items jsonb, p_expires_at timestamptz, p_reason text, p_sku text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_from text := 'NONE';
  v_items jsonb := p_items;
  v_kinds text[];
BEGIN
  INSERT INTO reservations (order_id, status, items, expires_at, reason, sku)
  VALUES (p_order_id, p_status, p_items, p_expires_at, p_reason, p_sku)
  ON CONFLICT (order_id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT status, items INTO STRICT v_from, v_items FROM reservations WHERE order_id = p_order_id FOR UPDATE;
    IF v_from <> 'RESERVED' OR p_status = 'RESERVED' THEN
      RETURN v_from;
    END IF;
    UPDATE reservations SET status = p_status, updated_at = now() WHERE order_id = p_order_id;
  END IF;
  IF p_status = 'REJECTED' OR jsonb_array_length(v_items) = 0 THEN
    RETURN v_from;
  END IF;
  v_kinds := CASE WHEN v_from = 'NONE' THEN ARRAY['RESERVE'] ELSE ARRAY[]::text[] END
    || CASE p_status
         WHEN 'COMMITTED' THEN ARRAY['COMMIT']
         WHEN 'RELEASED' THEN ARRAY['RELEASE']
         WHEN 'EXPIRED' THEN ARRAY['EXPIRE']
         ELSE ARRAY[]::text[]
       END;
  INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold)
  SELECT i.item->>'sku', p_order_id, k.kind,
         q * CASE k.kind WHEN 'RESERVE' THEN -1 WHEN 'COMMIT' THEN 0 ELSE 1 END,
         q * CASE k.kind WHEN 'RESERVE' THEN 1 ELSE -1 END,
         q * CASE k.kind WHEN 'COMMIT' THEN 1 ELSE 0 END
  FROM unnest(v_kinds) WITH ORDINALITY AS k(kind, kn)
  CROSS JOIN jsonb_array_elements(v_items) WITH ORDINALITY AS i(item, n)
  CROSS JOIN LATERAL (SELECT (i.item->>'quantity')::integer AS q) AS quantity
  ORDER BY k.kn, i.n;
  RETURN v_from;
END $$;
`,
  },
  {
    // The reservation's events (reservation.reserved / committed / released / expired / rejected), written
    // by the ledger function itself: the Redis script decides, and a state is durable when this function
    // has recorded it, so the event is exactly as durable as the ledger. Existing reservations get one
    // event each, in their current state, for read models that read the feed from 0.
    id: '004_reservation_events',
    sql: `${OUTBOX_SCHEMA_SQL}
CREATE OR REPLACE FUNCTION inventory_record_transition(
  p_order_id text, p_status text, p_items jsonb, p_expires_at timestamptz, p_reason text, p_sku text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_from text := 'NONE';
  v_items jsonb := p_items;
  v_kinds text[];
BEGIN
  INSERT INTO reservations (order_id, status, items, expires_at, reason, sku)
  VALUES (p_order_id, p_status, p_items, p_expires_at, p_reason, p_sku)
  ON CONFLICT (order_id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT status, items INTO STRICT v_from, v_items FROM reservations WHERE order_id = p_order_id FOR UPDATE;
    IF v_from <> 'RESERVED' OR p_status = 'RESERVED' THEN
      RETURN v_from;
    END IF;
    UPDATE reservations SET status = p_status, updated_at = now() WHERE order_id = p_order_id;
  END IF;
  -- the reservation changed: its event, in the same function call (one statement) as the ledger rows
  PERFORM kit_record_event('reservation', p_order_id, 'reservation.' || lower(p_status), 1,
    jsonb_build_object('orderId', p_order_id, 'status', p_status, 'items', v_items, 'expiresAt', p_expires_at,
      'reason', p_reason));
  IF p_status = 'REJECTED' OR jsonb_array_length(v_items) = 0 THEN
    RETURN v_from;
  END IF;
  v_kinds := CASE WHEN v_from = 'NONE' THEN ARRAY['RESERVE'] ELSE ARRAY[]::text[] END
    || CASE p_status
         WHEN 'COMMITTED' THEN ARRAY['COMMIT']
         WHEN 'RELEASED' THEN ARRAY['RELEASE']
         WHEN 'EXPIRED' THEN ARRAY['EXPIRE']
         ELSE ARRAY[]::text[]
       END;
  INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold)
  SELECT i.item->>'sku', p_order_id, k.kind,
         q * CASE k.kind WHEN 'RESERVE' THEN -1 WHEN 'COMMIT' THEN 0 ELSE 1 END,
         q * CASE k.kind WHEN 'RESERVE' THEN 1 ELSE -1 END,
         q * CASE k.kind WHEN 'COMMIT' THEN 1 ELSE 0 END
  FROM unnest(v_kinds) WITH ORDINALITY AS k(kind, kn)
  CROSS JOIN jsonb_array_elements(v_items) WITH ORDINALITY AS i(item, n)
  CROSS JOIN LATERAL (SELECT (i.item->>'quantity')::integer AS q) AS quantity
  ORDER BY k.kn, i.n;
  RETURN v_from;
END $$;
SELECT kit_record_event('reservation', order_id, 'reservation.' || lower(status), 1,
         jsonb_build_object('orderId', order_id, 'status', status, 'items', items, 'expiresAt', expires_at,
           'reason', reason))
  FROM reservations ORDER BY created_at;
`,
  },
];
