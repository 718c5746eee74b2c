import type { ClientBase, Pool } from 'pg';

/** One event as the feed serves it (`GET /events`). */
export interface FeedEvent {
  /** The event id (a UUID): consumers record it in their inbox to drop duplicates. */
  readonly id: string;
  /** The position to pass as `after` to read what follows this event. */
  readonly cursor: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** 1, 2, 3... per aggregate, in the order the aggregate's changes committed. */
  readonly sequence: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly payload: unknown;
  /** When the event was written (ISO 8601), shortly before its transaction committed. */
  readonly occurredAt: string;
}

/** A page of the feed. */
export interface FeedPage {
  readonly events: readonly FeedEvent[];
  /** The cursor to ask with next: the last event's, or the one asked with when there was none. */
  readonly next: string;
  /**
   * Events the feed could serve after `next` right now, counted up to {@link FEED_REMAINING_CAP}
   * (a reader's lag in events; `FEED_REMAINING_CAP` means at least that many).
   */
  readonly remaining: number;
}

/** The most {@link FeedPage.remaining} counts, so a reader far behind costs a bounded count. */
export const FEED_REMAINING_CAP = 10_000;

/** The cursor before the first event. */
export const FEED_START = '0';

/** A cursor: `<xact id>.<position>` of the last event read, or `0` for the start. */
export const FEED_CURSOR_PATTERN = '^(0|[0-9]{1,20}\\.[0-9]{1,19})$';

const CURSOR = new RegExp(FEED_CURSOR_PATTERN);

/** The (xact id, position) pair of a cursor; throws on a malformed one. */
export function parseFeedCursor(cursor: string): { xactId: string; position: string } {
  if (!CURSOR.test(cursor))
    throw new Error(`feed cursor: must be 0 or <xact id>.<position>, got ${JSON.stringify(cursor)}`);
  if (cursor === FEED_START) return { xactId: '0', position: '0' };
  const [xactId, position] = cursor.split('.') as [string, string];
  return { xactId, position };
}

interface FeedRow {
  position: string;
  id: string;
  xact_id: string;
  aggregate_type: string;
  aggregate_id: string;
  sequence: string;
  event_type: string;
  schema_version: number;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Reads up to `limit` events after `after`, gap-safe.
 *
 * A bigserial alone cannot be a cursor: positions are taken when a row is inserted, not when its
 * transaction commits, so a reader can pass position 8 while the transaction holding position 7 is
 * still open, and never see 7. Here the order is (xact id, position) and only rows whose transaction
 * id is below the snapshot's xmin are served: every transaction with a smaller id has ended, so no
 * row can appear later before the cursor. The price: one transaction left open holds back every row
 * of later ones (measured by {@link readFeedHoldback}).
 *
 * @see https://www.postgresql.org/docs/15/functions-info.html#FUNCTIONS-PG-SNAPSHOT
 */
export async function readFeed(
  db: Pool | ClientBase,
  after: string = FEED_START,
  limit = 100,
): Promise<FeedPage> {
  const { xactId, position } = parseFeedCursor(after);
  const { rows } = await db.query<FeedRow>(
    `SELECT position, id, xact_id::text AS xact_id, aggregate_type, aggregate_id, sequence, event_type,
            schema_version, payload, occurred_at
       FROM kit_outbox
      WHERE (xact_id, position) > ($1::xid8, $2::bigint)
        AND xact_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY xact_id, position
      LIMIT $3`,
    [xactId, position, limit],
  );
  const events = rows.map(toFeedEvent);
  const next = events.at(-1)?.cursor ?? after;
  return { events, next, remaining: events.length < limit ? 0 : await countRemaining(db, next) };
}

async function countRemaining(db: Pool | ClientBase, after: string): Promise<number> {
  const { xactId, position } = parseFeedCursor(after);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM kit_outbox
        WHERE (xact_id, position) > ($1::xid8, $2::bigint)
          AND xact_id < pg_snapshot_xmin(pg_current_snapshot())
        LIMIT $3) r`,
    [xactId, position, FEED_REMAINING_CAP],
  );
  return rows[0]!.n;
}

function toFeedEvent(r: FeedRow): FeedEvent {
  return {
    id: r.id,
    cursor: `${r.xact_id}.${r.position}`,
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    sequence: Number(r.sequence),
    type: r.event_type,
    schemaVersion: r.schema_version,
    payload: r.payload,
    occurredAt: r.occurred_at.toISOString(),
  };
}

/** Options of {@link waitForFeed}. */
export interface FeedWaitOptions {
  readonly after?: string;
  /** @default 100 */
  readonly limit?: number;
  /** Long-poll: wait up to this long for a first event. @default 0 */
  readonly waitMs?: number;
  /** How often to look again while waiting. @default 100 */
  readonly pollMs?: number;
  /** Ends the wait early (shutdown), answering with what there is. */
  readonly signal?: AbortSignal;
}

/**
 * {@link readFeed}, waiting up to `waitMs` for at least one event. It polls the table (one indexed
 * query per `pollMs`) instead of LISTEN/NOTIFY: a NOTIFY from every business transaction takes a
 * global lock at commit and serializes all committing writers.
 *
 * @see https://www.postgresql.org/docs/15/sql-notify.html
 */
export async function waitForFeed(db: Pool, options: FeedWaitOptions = {}): Promise<FeedPage> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const pollMs = options.pollMs ?? 100;
  for (;;) {
    const page = await readFeed(db, options.after, options.limit);
    const left = deadline - Date.now();
    if (page.events.length > 0 || left <= 0 || options.signal?.aborted) return page;
    await sleep(Math.min(pollMs, left), options.signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
