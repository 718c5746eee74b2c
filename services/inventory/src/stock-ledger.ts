import type { Pool, PoolClient } from '@aio/kit';
import type { ReservationItem, ReservationRecord, ReservationStatus, StockLevels } from './stock-store.js';

/** A reservation state change to make durable. */
export interface Transition {
  readonly orderId: string;
  readonly status: ReservationStatus;
  readonly items: readonly ReservationItem[];
  readonly expiresAt?: number;
  readonly sku?: string;
}

/** Units of one SKU that the ledger holds reserved for an order that is not RESERVED. */
export interface OrphanedReservation {
  readonly orderId: string;
  /** The reservation's status, or NONE when there is no reservation row. */
  readonly status: string;
  readonly sku: string;
  readonly reserved: number;
}

/**
 * Inventory's durable record in Postgres: reservations, and an append-only ledger whose sums per SKU
 * are the counters (every entry is a delta, so concurrent entries commute and the sums are exact).
 */
export class StockLedger {
  /** A pool, or one client inside a transaction (reconcile holds a lock across its reads). */
  constructor(private readonly pool: Pool | PoolClient) {}

  /**
   * Records a state reached in Redis. Idempotent, and monotonic: a finished reservation never goes back,
   * so a late or repeated write changes nothing. A tombstone (RELEASED with no items) writes no entries.
   *
   * One statement, one round trip: `inventory_record_transition` (migration `002_record_transition`)
   * inserts the reservation or locks it and moves it on, and appends the ledger entries of the step:
   * NONE → RESERVED: RESERVE; NONE → COMMITTED/RELEASED/EXPIRED: RESERVE then the finishing entry;
   * RESERVED → COMMITTED: COMMIT; RESERVED → RELEASED: RELEASE; RESERVED → EXPIRED: EXPIRE; REJECTED and
   * anything from a finished state: none. Concurrent duplicates serialize on the reservation row.
   *
   * @returns the state the reservation had in Postgres before (NONE when this call inserted it)
   */
  async record(t: Transition): Promise<ReservationStatus | 'NONE'> {
    const { rows } = await this.pool.query<{ from: ReservationStatus | 'NONE' }>(
      'SELECT inventory_record_transition($1, $2, $3::jsonb, $4, $5, $6) AS "from"',
      [
        t.orderId,
        t.status,
        JSON.stringify(t.items),
        t.expiresAt ? new Date(t.expiresAt) : null,
        t.status === 'REJECTED' ? 'INSUFFICIENT_STOCK' : null,
        t.sku ?? null,
      ],
    );
    return rows[0]!.from;
  }

  /**
   * Records an admin change of available units (a delta) and registers the product.
   *
   * One statement (a data-modifying CTE), so both writes commit together without BEGIN/COMMIT round trips.
   */
  async adjust(sku: string, deltaAvailable: number): Promise<void> {
    await this.pool.query(
      `WITH product AS (
         INSERT INTO products (sku) VALUES ($1) ON CONFLICT (sku) DO UPDATE SET updated_at = now()
       )
       INSERT INTO stock_ledger (sku, kind, d_available, d_reserved, d_sold)
       SELECT $1, 'ADJUST', $2::integer, 0, 0 WHERE $2::integer <> 0`,
      [sku, deltaAvailable],
    );
  }

  /** Counters of every product, summed from the ledger. */
  async counters(): Promise<Map<string, StockLevels>> {
    const { rows } = await this.pool.query<{
      sku: string;
      available: number;
      reserved: number;
      sold: number;
    }>(
      `SELECT p.sku,
              coalesce(sum(l.d_available), 0)::int AS available,
              coalesce(sum(l.d_reserved), 0)::int AS reserved,
              coalesce(sum(l.d_sold), 0)::int AS sold
       FROM products p LEFT JOIN stock_ledger l ON l.sku = p.sku
       GROUP BY p.sku ORDER BY p.sku`,
    );
    return new Map(rows.map((r) => [r.sku, { available: r.available, reserved: r.reserved, sold: r.sold }]));
  }

  /**
   * Units the ledger holds reserved for orders that are no longer RESERVED (or have no reservation):
   * a RESERVE entry that never got its COMMIT, RELEASE or EXPIRE. Versions before migration 003 left
   * them when a release found no record in Redis.
   */
  async orphanedReservations(): Promise<OrphanedReservation[]> {
    const { rows } = await this.pool.query<OrphanedReservation>(
      `SELECT l.order_id AS "orderId", coalesce(r.status, 'NONE') AS status, l.sku,
              sum(l.d_reserved)::int AS reserved
         FROM stock_ledger l LEFT JOIN reservations r ON r.order_id = l.order_id
        WHERE l.order_id IS NOT NULL
        GROUP BY l.order_id, r.status, l.sku
       HAVING sum(l.d_reserved) <> 0 AND coalesce(r.status, 'NONE') <> 'RESERVED'
        ORDER BY 1, 3`,
    );
    return rows;
  }

  /**
   * Appends the entries that close {@link orphanedReservations}: COMMIT for a committed order
   * (reserved → sold), otherwise the finishing kind of its status (reserved → available).
   */
  async closeOrphanedReservations(orphans: readonly OrphanedReservation[]): Promise<void> {
    if (!orphans.length) return;
    await this.pool.query(
      `INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold)
       SELECT o.sku, o.order_id,
              CASE o.status WHEN 'COMMITTED' THEN 'COMMIT' WHEN 'EXPIRED' THEN 'EXPIRE' ELSE 'RELEASE' END,
              CASE o.status WHEN 'COMMITTED' THEN 0 ELSE o.reserved END,
              -o.reserved,
              CASE o.status WHEN 'COMMITTED' THEN o.reserved ELSE 0 END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS o(order_id, status, sku, reserved)`,
      [
        orphans.map((o) => o.orderId),
        orphans.map((o) => o.status),
        orphans.map((o) => o.sku),
        orphans.map((o) => o.reserved),
      ],
    );
  }

  /** Reservations changed within `withinSeconds` (RESERVED ones always), for rebuilding Redis records. */
  async recentReservations(
    withinSeconds: number,
  ): Promise<Array<ReservationRecord & { orderId: string; updatedAt: Date }>> {
    const { rows } = await this.pool.query<{
      order_id: string;
      status: ReservationStatus;
      items: ReservationItem[];
      expires_at: Date | null;
      reason: string | null;
      sku: string | null;
      updated_at: Date;
    }>(
      `SELECT order_id, status, items, expires_at, reason, sku, updated_at FROM reservations
       WHERE status = 'RESERVED' OR updated_at > now() - make_interval(secs => $1)`,
      [withinSeconds],
    );
    return rows.map((r) => ({
      orderId: r.order_id,
      status: r.status,
      items: r.items,
      updatedAt: r.updated_at,
      ...(r.expires_at ? { expiresAt: r.expires_at.getTime() } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.sku ? { sku: r.sku } : {}),
    }));
  }

  /** One reservation from Postgres (when Redis no longer holds it). */
  async reservation(orderId: string): Promise<ReservationRecord | undefined> {
    const { rows } = await this.pool.query<{
      status: ReservationStatus;
      items: ReservationItem[];
      expires_at: Date | null;
      reason: string | null;
      sku: string | null;
    }>('SELECT status, items, expires_at, reason, sku FROM reservations WHERE order_id = $1', [orderId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      status: r.status,
      items: r.items,
      ...(r.expires_at ? { expiresAt: r.expires_at.getTime() } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.sku ? { sku: r.sku } : {}),
    };
  }
}
