import { fetchFeedPage, withTransaction } from '@aio/kit';
import type { Logger, Pool, PoolClient } from '@aio/kit';
import { PROJECTION_TABLES, projectionTablesSql } from './migrations.js';
import { ProjectionTables } from './projection.js';
import { Projector, readCursor, SOURCE_LOCK_CLASS, type Source } from './projector.js';

/** What {@link rebuildProjection} did. */
export interface RebuildResult {
  /** Events replayed (from position 0 of every source). */
  readonly events: number;
  /** Events applied during the swap itself, to catch up with what arrived meanwhile. */
  readonly caughtUp: number;
  readonly ms: number;
}

const REBUILD = new ProjectionTables('_rebuild');
const LIVE = new ProjectionTables('');

/**
 * Replays every source from position 0 into a new set of tables (`history_*_rebuild`) while the live
 * projector and `GET /api/me/orders` keep working on the live set, then swaps it in: one transaction
 * takes every source's batch lock (live batches wait), applies what arrived since the replay, and
 * renames the new tables over the old ones. Readers are blocked only between the renames and the
 * commit; the live projector's next batch finds the cursor changed and re-reads from the new one.
 */
export async function rebuildProjection(
  pool: Pool,
  sources: readonly Source[],
  logger: Logger,
): Promise<RebuildResult> {
  const started = Date.now();
  await pool.query(
    PROJECTION_TABLES.map((t) => `DROP TABLE IF EXISTS ${REBUILD.name(t)};`).join('\n') +
      projectionTablesSql(REBUILD.suffix),
  );
  const replay = new Projector({ pool, sources, logger, tables: REBUILD, batch: 1000 });
  let events = 0;
  for (const source of sources) {
    for (let n = await replay.step(source, 0); n > 0; n = await replay.step(source, 0)) events += n;
    logger.info({ source: source.name, events }, 'rebuild: source replayed');
  }
  const caughtUp = await withTransaction(pool, async (c) => {
    for (const s of sources) await lockSource(c, s.name);
    let n = 0;
    for (const s of sources) n += await catchUp(c, replay, s);
    for (const t of PROJECTION_TABLES) {
      await c.query(`ALTER TABLE ${LIVE.name(t)} RENAME TO ${LIVE.name(t)}_old`);
      await c.query(`ALTER TABLE ${REBUILD.name(t)} RENAME TO ${LIVE.name(t)}`);
      await c.query(`DROP TABLE ${LIVE.name(t)}_old`);
    }
    return n;
  });
  return { events: events + caughtUp, caughtUp, ms: Date.now() - started };
}

async function lockSource(c: PoolClient, source: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SOURCE_LOCK_CLASS, source]);
}

/** Applies, in the swap's transaction, every event of `source` after the rebuild's cursor. */
async function catchUp(c: PoolClient, replay: Projector, source: Source): Promise<number> {
  let n = 0;
  for (;;) {
    const after = await readCursor(c, REBUILD, source.name);
    const page = await fetchFeedPage(source.url, { after, limit: 1000, source: source.name });
    if (page.events.length === 0) return n;
    await replay.apply(c, source.name, after, page.events, page.next);
    n += page.events.length;
  }
}

/**
 * A digest of the projection's content (orders, payment statuses, product names; not the inbox or
 * the cursors), equal for two projections exactly when they show the same thing.
 */
export async function projectionChecksum(db: Pool, tables: ProjectionTables = LIVE): Promise<string> {
  const { rows } = await db.query<{ digest: string }>(
    `SELECT md5(
       coalesce((SELECT string_agg(concat_ws('|', source, order_id, customer_id, status, rejection_reason, items::text,
                   total::text, currency, placed_at::text, seq::text), E'\\n' ORDER BY source, order_id)
                   FROM ${tables.name('order')}), '') || '#' ||
       coalesce((SELECT string_agg(concat_ws('|', order_id, status, reason, seq::text), E'\\n' ORDER BY order_id)
                   FROM ${tables.name('payment')}), '') || '#' ||
       coalesce((SELECT string_agg(concat_ws('|', sku, name, seq::text), E'\\n' ORDER BY sku)
                   FROM ${tables.name('product')}), '')) AS digest`,
  );
  return rows[0]!.digest;
}
