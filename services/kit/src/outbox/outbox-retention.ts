import type { Pool } from 'pg';

/** Options of {@link compactOutbox}. */
export interface OutboxRetention {
  /**
   * Every event stays at least this long. Older ones are deleted once a newer event of the same
   * aggregate exists; the newest event of each aggregate is kept for good.
   *
   * @default 604800000 (7 days)
   */
  readonly retainMs?: number;
  /** Rows deleted per statement at most (the call loops until none is left). @default 5000 */
  readonly batch?: number;
}

/** The default of {@link OutboxRetention.retainMs}: 7 days. */
export const OUTBOX_RETAIN_MS_DEFAULT = 7 * 24 * 3600 * 1000;

/**
 * Compacts the outbox: deletes events older than `retainMs` that a newer event of their aggregate
 * supersedes, and only among rows the feed already serves (below the xmin). Because events carry
 * the aggregate's whole state, what is kept (the window, plus the newest event of every aggregate)
 * is enough for any consumer, even one reading from position 0 (a rebuild, a new read model): it
 * misses intermediate states only, never an aggregate. The table is bounded by the number of
 * aggregates plus the events of the window. The per-aggregate counters are kept, so sequences never
 * restart.
 *
 * @returns the number of events deleted
 */
export async function compactOutbox(pool: Pool, options: OutboxRetention = {}): Promise<number> {
  const retainMs = options.retainMs ?? OUTBOX_RETAIN_MS_DEFAULT;
  const batch = options.batch ?? 5000;
  let deleted = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM kit_outbox WHERE position IN (
         SELECT o.position FROM kit_outbox o
          WHERE o.occurred_at < clock_timestamp() - $1 * interval '1 millisecond'
            AND o.xact_id < pg_snapshot_xmin(pg_current_snapshot())
            AND EXISTS (SELECT 1 FROM kit_outbox n
                         WHERE n.aggregate_type = o.aggregate_type AND n.aggregate_id = o.aggregate_id
                           AND n.sequence > o.sequence)
          LIMIT $2)`,
      [retainMs, batch],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return deleted;
  }
}
