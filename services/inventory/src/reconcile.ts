import type { StockLedger } from './stock-ledger.js';
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
  /** Reservation records Postgres has (live, or finished within the retention) that Redis lacks. */
  readonly missingReservations: number;
  /** Of those, written back to Redis (0 for a dry run). */
  readonly restoredReservations: number;
  /** False for a dry run. */
  readonly applied: boolean;
}

/**
 * Rebuilds Redis from Postgres after Redis lost data (a restart without persistence, a failover that
 * dropped writes, a flush), and reports every SKU whose counters drifted.
 *
 * Counters are the ledger's sums per SKU. Missing reservation records are restored: RESERVED ones with
 * their deadline (the sweeper expires them as usual), finished ones for the retention period so that
 * replays stay idempotent. Run it with traffic stopped, or accept that in-flight reservations may show
 * as drift; `dryRun` only reports.
 */
export async function reconcile(
  store: StockStore,
  ledger: StockLedger,
  dryRun = false,
): Promise<ReconcileReport> {
  const counters = await ledger.counters();
  const drift: Drift[] = [];
  for (const [sku, expected] of counters) {
    const actual = await store.levels(sku);
    if (
      !actual ||
      actual.available !== expected.available ||
      actual.reserved !== expected.reserved ||
      actual.sold !== expected.sold
    ) {
      drift.push({ sku, expected, ...(actual ? { actual } : {}) });
    }
  }
  let restored = 0;
  const reservations = await ledger.recentReservations(store.retentionSeconds);
  const missing: typeof reservations = [];
  for (const r of reservations) {
    if (!(await store.redis.exists(store.reservationKey(r.orderId)))) missing.push(r);
  }
  if (!dryRun) {
    const multi = store.redis.multi();
    for (const d of drift) {
      multi.hset(
        store.skuKey(d.sku),
        'available',
        d.expected.available,
        'reserved',
        d.expected.reserved,
        'sold',
        d.expected.sold,
      );
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
      restored++;
    }
    await multi.exec();
  }
  return {
    skus: counters.size,
    drift,
    missingReservations: missing.length,
    restoredReservations: restored,
    applied: !dryRun,
  };
}
