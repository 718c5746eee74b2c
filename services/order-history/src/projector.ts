import { fetchFeedPage, FEED_START, withTransaction } from '@aio/kit';
import type { FeedEvent, Logger, Pool, PoolClient } from '@aio/kit';
import { applyEvents, ProjectionTables, type SourceName } from './projection.js';

/** One feed the projector reads. */
export interface Source {
  readonly name: SourceName;
  /** The producer's base URL. */
  readonly url: string;
}

/** How far one source is behind, as the metrics report it. */
export interface SourceLag {
  /** Events the feed had after our cursor at the last read (capped by the feed). */
  events: number;
  /** Age of the last event applied while more were waiting; 0 when caught up. */
  seconds: number;
  /** When the last read of this source succeeded (ms since the epoch). */
  lastSuccessAt: number;
  /** Events applied since start. */
  applied: number;
}

/** Props of {@link Projector}. */
export interface ProjectorProps {
  readonly pool: Pool;
  readonly sources: readonly Source[];
  readonly logger: Logger;
  /** @default the live tables */
  readonly tables?: ProjectionTables;
  /** Events per batch. @default 500 */
  readonly batch?: number;
  /** Long-poll per read. @default 1000 */
  readonly waitMs?: number;
  /** Called with each applied event's lag (commit time minus the event's time), in seconds. */
  readonly onProjected?: (source: SourceName, lagSeconds: number) => void;
  /** Fault injection: SIGKILL the process after applying this many events of a larger batch, before commit. */
  readonly crashAfter?: number;
}

/** Lock class of the per-source batch lock (`pg_advisory_xact_lock(class, hashtext(source))`). */
export const SOURCE_LOCK_CLASS = 0x6f68; // 'oh'

/**
 * Projects each source's feed into the read model: read a page after the stored cursor, then in ONE
 * transaction apply the page (one statement: inbox + version guard, see projection.ts) and move the cursor. A
 * crash anywhere leaves either the whole batch or none of it; a page read from a cursor that moved
 * meanwhile (another replica, or a rebuild swapped in) is dropped, because the batch re-reads the
 * cursor under the source's advisory lock first.
 */
export class Projector {
  public readonly lag = new Map<SourceName, SourceLag>();
  private readonly tables: ProjectionTables;
  private running = false;
  private loops: Promise<void>[] = [];

  public constructor(private readonly props: ProjectorProps) {
    this.tables = props.tables ?? new ProjectionTables('');
    for (const s of props.sources)
      this.lag.set(s.name, { events: 0, seconds: 0, lastSuccessAt: Date.now(), applied: 0 });
  }

  /** Starts one loop per source. */
  public start(): void {
    this.running = true;
    this.loops = this.props.sources.map((s) => this.loop(s));
  }

  /** Stops the loops after their current read or batch. */
  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * Reads and applies one page of `source` (long-polling up to `waitMs`).
   *
   * @returns how many events the page had (0 when caught up)
   */
  public async step(source: Source, waitMs = this.props.waitMs ?? 1000): Promise<number> {
    const { pool } = this.props;
    const after = await readCursor(pool, this.tables, source.name);
    const page = await fetchFeedPage(source.url, {
      after,
      limit: this.props.batch ?? 500,
      waitMs,
      source: source.name,
    });
    const lag = this.lag.get(source.name)!;
    lag.lastSuccessAt = Date.now();
    lag.events = page.remaining;
    if (page.events.length === 0) {
      lag.seconds = 0;
      return 0;
    }
    const applied = await withTransaction(pool, (c) =>
      this.apply(c, source.name, after, page.events, page.next),
    );
    if (applied) {
      const now = Date.now();
      const last = page.events.at(-1)!;
      lag.applied += page.events.length;
      lag.seconds = page.remaining > 0 ? (now - Date.parse(last.occurredAt)) / 1000 : 0;
      for (const e of page.events)
        this.props.onProjected?.(source.name, (now - Date.parse(e.occurredAt)) / 1000);
    }
    return page.events.length;
  }

  /** Applies a page in the caller's transaction; false (nothing written) when the cursor moved since the read. */
  public async apply(
    c: PoolClient,
    source: SourceName,
    after: string,
    events: readonly FeedEvent[],
    next: string,
  ): Promise<boolean> {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SOURCE_LOCK_CLASS, source]);
    if ((await readCursor(c, this.tables, source)) !== after) return false;
    const crashAfter = this.props.crashAfter;
    if (crashAfter && events.length >= crashAfter) {
      // fault injection: the first events of the page applied, the rest and the commit never
      await applyEvents(c, this.tables, source, events.slice(0, crashAfter));
      process.stderr.write(`AIO_HISTORY_CRASH_AFTER: killing order-history mid-batch (${source})\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    await applyEvents(c, this.tables, source, events);
    await c.query(
      `INSERT INTO ${this.tables.name('cursor')} (source, cursor, last_event_at, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (source) DO UPDATE SET cursor = EXCLUDED.cursor, last_event_at = EXCLUDED.last_event_at, updated_at = now()`,
      [source, next, events.at(-1)!.occurredAt],
    );
    return true;
  }

  private async loop(source: Source): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.step(source);
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0)
          this.props.logger.warn({ err, source: source.name, failures }, 'feed read failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(failures, 5))));
      }
    }
  }
}

/** The stored cursor of `source` in `tables`, or the start. */
export async function readCursor(
  db: Pool | PoolClient,
  tables: ProjectionTables,
  source: SourceName,
): Promise<string> {
  const { rows } = await db.query<{ cursor: string }>(
    `SELECT cursor FROM ${tables.name('cursor')} WHERE source = $1`,
    [source],
  );
  return rows[0]?.cursor ?? FEED_START;
}
