import type { ClientBase, Pool } from 'pg';
import type { SqlStatement } from '../saga/saga-schema.js';

/**
 * One event to record with a business change.
 *
 * Events are state-carrying: the payload holds the aggregate as it is after the change (not a
 * delta), so a consumer that applies the highest sequence of an aggregate and ignores older ones (its
 * version guard) ends in the right state whatever order it receives them in, and compaction may drop
 * superseded events (see outbox-retention.ts).
 */
export interface OutboxEvent {
  /** The kind of aggregate, e.g. `order`, `payment`, `reservation`. */
  readonly aggregateType: string;
  /** The aggregate's id, e.g. the order id. */
  readonly aggregateId: string;
  /** The event type, e.g. `order.placed`. */
  readonly type: string;
  /** Version of the payload's schema; bump it when the payload changes shape. @default 1 */
  readonly schemaVersion?: number;
  /** The aggregate's state after the change, as JSON. */
  readonly payload: unknown;
}

/**
 * The data-modifying CTEs that record `events`, for splicing into a statement after its own CTEs:
 * `kit_event` (the events, only when `when` holds), `kit_sequence` (the per-aggregate counter bumped
 * by the number of events, row-locked until commit) and `kit_recorded` (the outbox rows). Parameters
 * are numbered from `firstParam`.
 *
 * @param when an SQL condition, e.g. `EXISTS (SELECT 1 FROM business)`: no event without the change
 */
export function outboxCtes(
  events: readonly OutboxEvent[],
  firstParam: number,
  when = 'true',
): { sql: string; params: unknown[] } {
  const counts = new Map<string, number>();
  const rows = events.map((e) => {
    if (!e.aggregateType || !e.aggregateId || !e.type)
      throw new Error(
        `outbox event: aggregateType, aggregateId and type must be non-empty, got ${JSON.stringify({ aggregateType: e.aggregateType, aggregateId: e.aggregateId, type: e.type })}`,
      );
    const key = JSON.stringify([e.aggregateType, e.aggregateId]);
    const idx = counts.get(key) ?? 0;
    counts.set(key, idx + 1);
    return {
      aggregate_type: e.aggregateType,
      aggregate_id: e.aggregateId,
      event_type: e.type,
      schema_version: e.schemaVersion ?? 1,
      payload: e.payload ?? null,
      idx,
    };
  });
  const withCounts = rows.map((r) => ({
    ...r,
    cnt: counts.get(JSON.stringify([r.aggregate_type, r.aggregate_id]))!,
  }));
  const source = `SELECT * FROM jsonb_to_recordset($${firstParam}::jsonb) AS e(aggregate_type text, aggregate_id text,
    event_type text, schema_version integer, payload jsonb, idx integer, cnt integer)
   WHERE ${when}`;
  return { sql: recordingCtes(source), params: [JSON.stringify(withCounts)] };
}

/** Where {@link rowEventCtes} takes its events from: the rows a statement's CTE changed. */
export interface RowEvents {
  /** The CTE (or table expression) holding the changed rows, one per aggregate, e.g. `done`. */
  readonly from: string;
  /** The aggregate type, e.g. `payment`. */
  readonly aggregateType: string;
  /** SQL expression for the aggregate id over `from`'s columns, e.g. `order_id`. */
  readonly aggregateId: string;
  /** SQL expression for the event type, e.g. `'payment.' || lower(status)`. */
  readonly type: string;
  /** SQL expression for the jsonb payload (the aggregate's state), e.g. `jsonb_build_object(...)`. */
  readonly payload: string;
  /** @default 1 */
  readonly schemaVersion?: number;
  /** SQL condition on `from`'s rows. @default - every row */
  readonly where?: string;
}

/**
 * The outbox CTEs for events built in SQL from the rows a data-modifying CTE returned, for
 * statements that are SQL through and through (payment's claims and finishes): splice
 * `, ${rowEventCtes(...)}` after the CTE named in `from`. No parameters; the expressions may use the
 * statement's own. Data-modifying, so they run even when the statement's result does not read them.
 */
export function rowEventCtes(events: RowEvents): string {
  const source = `SELECT ${sqlText(events.aggregateType)} AS aggregate_type, (${events.aggregateId})::text AS aggregate_id,
         (${events.type})::text AS event_type, ${events.schemaVersion ?? 1} AS schema_version,
         (${events.payload})::jsonb AS payload, 0 AS idx, 1 AS cnt
    FROM ${events.from}${events.where ? ` WHERE ${events.where}` : ''}`;
  return recordingCtes(source);
}

function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'::text`;
}

/**
 * `kit_event` (the events to record, from `source`), `kit_sequence` (the per-aggregate counter bumped
 * by the number of events, row-locked until commit, in a stable order so two statements never
 * deadlock on it) and `kit_recorded` (the outbox rows, `sequence` = counter - count + idx + 1).
 */
function recordingCtes(source: string): string {
  return `kit_event AS (
  ${source}),
kit_sequence AS (
  INSERT INTO kit_outbox_aggregate AS a (aggregate_type, aggregate_id, last_sequence)
  SELECT DISTINCT aggregate_type, aggregate_id, cnt FROM kit_event ORDER BY aggregate_type, aggregate_id
  ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_sequence = a.last_sequence + EXCLUDED.last_sequence
  RETURNING aggregate_type, aggregate_id, last_sequence),
kit_recorded AS (
  INSERT INTO kit_outbox (aggregate_type, aggregate_id, sequence, event_type, schema_version, payload)
  SELECT e.aggregate_type, e.aggregate_id, s.last_sequence - e.cnt + e.idx + 1, e.event_type, e.schema_version,
         e.payload
    FROM kit_event e JOIN kit_sequence s USING (aggregate_type, aggregate_id)
   ORDER BY e.aggregate_type, e.aggregate_id, e.idx
  RETURNING position)`;
}

/**
 * The business statement and its events as ONE statement: `WITH business AS (<sql>), <outbox> SELECT
 * * FROM business`. The events are recorded only when the business statement returns a row, so give
 * an `UPDATE` a `RETURNING` clause and guard it in its `WHERE` (an update that changes nothing then
 * records nothing). The statement returns the business statement's rows.
 *
 * The saga engine does the same itself for `SqlStatement.events` (in `createWith` and `onFinish`).
 */
export function withEvents(business: SqlStatement, events: readonly OutboxEvent[]): SqlStatement {
  if (events.length === 0) return business;
  const outbox = outboxCtes(events, business.params.length + 1, 'EXISTS (SELECT 1 FROM business)');
  return {
    sql: `WITH business AS (${business.sql}),\n${outbox.sql}\nSELECT * FROM business`,
    params: [...business.params, ...outbox.params],
  };
}

/**
 * Records `events` with one statement on `client`, for a change made in the caller's transaction
 * (`withTransaction(pool, async (client) => { ...; await recordEvents(client, events) })`).
 */
export async function recordEvents(client: ClientBase | Pool, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  const outbox = outboxCtes(events, 1);
  await client.query(`WITH ${outbox.sql} SELECT count(*) FROM kit_recorded`, outbox.params);
}
