import { withTransaction } from '@aio/kit';
import type { Pool } from '@aio/kit';
import { StockLedger } from './stock-ledger.js';
import type { OrphanedReservation } from './stock-ledger.js';
import type { StockLevels, StockStore } from './stock-store.js';
import { encodeItems } from './stock-store.js';

/** A SKU whose Redis counters differ from the ledger. */
export interface Drift {
  readonly sku: string;
  /** From the Postgres ledger (the truth). */
  readonly expected: StockLevels;
  /** From Redis; undefined when the key is gone. */
  readonly actual?: StockLevels;
}

/** Result of {@link reconcile}. */
export interface ReconcileReport {
  readonly skus: number;
  readonly drift: readonly Drift[];
  /** Units the ledger held reserved for orders that were no longer RESERVED; closed unless a dry run. */
  readonly orphanedReservations: readonly OrphanedReservation[];
  /** Reservation records Postgres has (live, or finished within the retention) that Redis lacks. */
  readonly missingReservations: number;
  /** Of those, written back to Redis (0 for a dry run). */
  readonly restoredReservations: number;
  /** False for a dry run. */
  readonly applied: boolean;
  /** True when `onlyIfEpochMissing` found the epoch and nothing was done. */
  readonly skipped?: boolean;
}

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** Report only. @default false */
  readonly dryRun?: boolean;
  /** Do nothing when Redis has its epoch (the automatic rebuild: another replica may have done it). @default false */
  readonly onlyIfEpochMissing?: boolean;
}

/**
 * Rebuilds Redis from Postgres after Redis lost data (a restart without persistence, a failover that
 * dropped writes, a flush), and reports every SKU whose counters drifted.
 *
 * - Orphaned reservations (units the ledger holds reserved for an order that is no longer RESERVED)
 *   get their closing ledger entry first, so the counters never keep them.
 * - Counters are the ledger's sums per SKU. Missing reservation records are restored: RESERVED ones
 *   with their deadline (the sweeper expires them as usual), finished ones for the retention period
 *   so that replays stay idempotent. Then the epoch key is written, in the same MULTI.
 *
 * It runs in one Postgres transaction that first locks `reservations` and `stock_ledger` in SHARE ROW
 * EXCLUSIVE mode: ledger writes wait until Redis holds the snapshot it read, and two rebuilds (two
 * replicas, or the CLI and a replica) run one after the other; the second then finds the epoch.
 */
export async function reconcile(
  store: StockStore,
  pool: Pool,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const dryRun = options.dryRun ?? false;
  return withTransaction(pool, async (client) => {
    await client.query('LOCK TABLE reservations, stock_ledger IN SHARE ROW EXCLUSIVE MODE');
    const empty = {
      skus: 0,
      drift: [],
      orphanedReservations: [],
      missingReservations: 0,
      restoredReservations: 0,
    };
    if (options.onlyIfEpochMissing && (await store.hasEpoch()))
      return { ...empty, applied: false, skipped: true };
    const ledger = new StockLedger(client);
    const orphans = await ledger.orphanedReservations();
    if (!dryRun) await ledger.closeOrphanedReservations(orphans);
    const counters = await ledger.counters();
    const reservations = await ledger.recentReservations(store.retentionSeconds);
    const [levels, present] = await readRedis(
      store,
      [...counters.keys()],
      reservations.map((r) => r.orderId),
    );
    const drift: Drift[] = [];
    for (const [i, [sku, expected]] of [...counters].entries()) {
      const actual = levels[i];
      if (
        !actual ||
        actual.available !== expected.available ||
        actual.reserved !== expected.reserved ||
        actual.sold !== expected.sold
      ) {
        drift.push({ sku, expected, ...(actual ? { actual } : {}) });
      }
    }
    const missing = reservations.filter((_, i) => !present[i]);
    if (!dryRun) {
      const multi = store.redis.multi();
      for (const d of drift) {
        const { available, reserved, sold } = d.expected;
        multi.hset(store.skuKey(d.sku), 'available', available, 'reserved', reserved, 'sold', sold);
      }
      for (const r of missing) {
        const key = store.reservationKey(r.orderId);
        const fields: (string | number)[] = ['status', r.status, 'items', encodeItems(r.items)];
        if (r.expiresAt) fields.push('expiresAt', r.expiresAt);
        if (r.reason) fields.push('reason', r.reason);
        if (r.sku) fields.push('sku', r.sku);
        multi.hset(key, ...fields);
        if (r.status === 'RESERVED' && r.expiresAt) multi.zadd(store.deadlinesKey, r.expiresAt, r.orderId);
        else multi.expire(key, store.retentionSeconds);
      }
      multi.set(store.epochKey, new Date().toISOString());
      await multi.exec();
    }
    return {
      skus: counters.size,
      drift,
      orphanedReservations: orphans,
      missingReservations: missing.length,
      restoredReservations: dryRun ? 0 : missing.length,
      applied: !dryRun,
    };
  });
}

/** The counters of `skus` and whether each reservation record exists, in one pipeline. */
async function readRedis(
  store: StockStore,
  skus: readonly string[],
  orderIds: readonly string[],
): Promise<[(StockLevels | undefined)[], boolean[]]> {
  const pipeline = store.redis.pipeline();
  for (const sku of skus) pipeline.hmget(store.skuKey(sku), 'available', 'reserved', 'sold');
  for (const id of orderIds) pipeline.exists(store.reservationKey(id));
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  const levels = replies.slice(0, skus.length).map(([, value]) => {
    const [a, r, s] = value as (string | null)[];
    if (a === null && r === null && s === null) return undefined;
    return { available: Number(a ?? 0), reserved: Number(r ?? 0), sold: Number(s ?? 0) };
  });
  const present = replies.slice(skus.length).map(([, value]) => value === 1);
  return [levels, present];
}
