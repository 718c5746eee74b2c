/**
 * The outbox tables, as one migration for a producing service (`{ id: '00N_outbox', sql: OUTBOX_SCHEMA_SQL }`),
 * beside its business tables in its own database.
 *
 * - `kit_outbox`: one row per event. `position` (bigserial) orders rows of one transaction;
 *   `xact_id` is the writing transaction's id (`pg_current_xact_id()`, a default, so every insert
 *   gets it), and the feed serves rows only once `xact_id` is below the snapshot's xmin, i.e. once
 *   no transaction that could still commit an earlier row is running (see event-feed.ts).
 * - `kit_outbox_aggregate`: the last sequence number per aggregate. Each event statement bumps it
 *   with `INSERT ... ON CONFLICT DO UPDATE`, which locks the row until commit: two transactions on one
 *   aggregate get consecutive sequences in the order they commit, and never the same one.
 *
 * - `kit_record_event(aggregate_type, aggregate_id, event_type, schema_version, payload)`: the same
 *   write as one SQL function, for a producer whose change is a PL/pgSQL function (inventory's ledger):
 *   `PERFORM kit_record_event(...)` inside it; returns the event's sequence.
 *
 * Idempotent (`IF NOT EXISTS`, `OR REPLACE`), so a service may list it after tables it already has.
 *
 * @see https://www.postgresql.org/docs/15/functions-info.html#FUNCTIONS-PG-SNAPSHOT
 */
export const OUTBOX_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS kit_outbox (
  position       bigserial PRIMARY KEY,
  id             uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  xact_id        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  sequence       bigint NOT NULL,
  event_type     text NOT NULL,
  schema_version integer NOT NULL,
  payload        jsonb NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (aggregate_type, aggregate_id, sequence)
);
CREATE INDEX IF NOT EXISTS kit_outbox_feed ON kit_outbox (xact_id, position);
CREATE INDEX IF NOT EXISTS kit_outbox_age ON kit_outbox (occurred_at);
CREATE TABLE IF NOT EXISTS kit_outbox_aggregate (
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  last_sequence  bigint NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id)
);
CREATE OR REPLACE FUNCTION kit_record_event(
  p_aggregate_type text, p_aggregate_id text, p_event_type text, p_schema_version integer, p_payload jsonb
) RETURNS bigint LANGUAGE sql AS $$
  WITH s AS (
    INSERT INTO kit_outbox_aggregate AS a (aggregate_type, aggregate_id, last_sequence)
    VALUES (p_aggregate_type, p_aggregate_id, 1)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_sequence = a.last_sequence + 1
    RETURNING last_sequence)
  INSERT INTO kit_outbox (aggregate_type, aggregate_id, sequence, event_type, schema_version, payload)
  SELECT p_aggregate_type, p_aggregate_id, s.last_sequence, p_event_type, p_schema_version, p_payload FROM s
  RETURNING sequence
$$;
`;
