import type { ClientBase, Pool } from 'pg';

/** How far an open transaction holds the feed back, from {@link readFeedHoldback}. */
export interface FeedHoldback {
  /**
   * Age in seconds of the oldest committed event the feed does not serve yet, because a transaction
   * that started before it committed is still open; 0 when the feed is serving everything committed.
   * This is what consumers wait: the stall metric.
   */
  readonly heldSeconds: number;
  /** Committed events held back. */
  readonly heldEvents: number;
  /**
   * Age in seconds of the oldest open transaction that holds a transaction id, in any database of
   * the server (xids are server-wide, so a long transaction elsewhere on a shared server stalls this
   * feed too); 0 when there is none. The cause to look for when `heldSeconds` grows.
   */
  readonly oldestTransactionSeconds: number;
}

/**
 * Measures the feed's stall. Committed rows at or above the snapshot's xmin are visible but not
 * served (see `readFeed`): they wait for the transaction whose id is the xmin to end. Prepared
 * transactions count as open (they hold the xmin until COMMIT/ROLLBACK PREPARED).
 *
 * @see https://www.postgresql.org/docs/15/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW
 */
export async function readFeedHoldback(db: Pool | ClientBase): Promise<FeedHoldback> {
  const { rows } = await db.query<{ held_seconds: number; held_events: number; oldest_seconds: number }>(
    `WITH held AS (
       SELECT count(*)::int AS n, min(occurred_at) AS oldest
         FROM kit_outbox WHERE xact_id >= pg_snapshot_xmin(pg_current_snapshot())),
     open_xact AS (
       SELECT min(xact_start) AS started FROM pg_stat_activity WHERE backend_xid IS NOT NULL
       UNION ALL SELECT min(prepared) FROM pg_prepared_xacts)
     SELECT coalesce(extract(epoch FROM clock_timestamp() - (SELECT oldest FROM held)), 0)::float8 AS held_seconds,
            (SELECT n FROM held) AS held_events,
            coalesce(extract(epoch FROM clock_timestamp() - (SELECT min(started) FROM open_xact)), 0)::float8
              AS oldest_seconds`,
  );
  const r = rows[0]!;
  return {
    heldSeconds: Math.max(0, r.held_seconds),
    heldEvents: r.held_events,
    oldestTransactionSeconds: Math.max(0, r.oldest_seconds),
  };
}
