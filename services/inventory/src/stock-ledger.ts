import { withTransaction } from '@aio/kit';
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

type LedgerKind = 'RESERVE' | 'COMMIT' | 'RELEASE' | 'EXPIRE';

const DELTAS: Record<LedgerKind, [number, number, number]> = {
  RESERVE: [-1, 1, 0],
  COMMIT: [0, -1, 1],
  RELEASE: [1, -1, 0],
  EXPIRE: [1, -1, 0],
};

/** Which ledger entries take a reservation from `from` to `to` (NONE: no row yet). */
function entriesFor(from: ReservationStatus | 'NONE', to: ReservationStatus): LedgerKind[] {
  if (from === to || (from !== 'NONE' && from !== 'RESERVED') || to === 'REJECTED') return [];
  const finish: LedgerKind[] =
    to === 'COMMITTED' ? ['COMMIT'] : to === 'RELEASED' ? ['RELEASE'] : to === 'EXPIRED' ? ['EXPIRE'] : [];
  return from === 'NONE' ? ['RESERVE', ...finish] : finish;
}

/**
 * Inventory's durable record in Postgres: reservations, and an append-only ledger whose sums per SKU
 * are the counters (every entry is a delta, so concurrent entries commute and the sums are exact).
 */
export class StockLedger {
  constructor(private readonly pool: Pool) {}

  /**
   * Records a state reached in Redis. Idempotent, and monotonic: a finished reservation never goes back,
   * so a late or repeated write changes nothing. A tombstone (RELEASED with no items) writes no entries.
   */
  async record(t: Transition): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        `INSERT INTO reservations (order_id, status, items, expires_at, reason, sku)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING`,
        [
          t.orderId,
          t.status,
          JSON.stringify(t.items),
          t.expiresAt ? new Date(t.expiresAt) : null,
          t.status === 'REJECTED' ? 'INSUFFICIENT_STOCK' : null,
          t.sku ?? null,
        ],
      );
      let from: ReservationStatus | 'NONE' = 'NONE';
      if (inserted.rowCount === 0) {
        const row = await client.query<{ status: ReservationStatus }>(
          'SELECT status FROM reservations WHERE order_id = $1 FOR UPDATE',
          [t.orderId],
        );
        from = row.rows[0]!.status;
        if (from !== 'RESERVED' || t.status === 'RESERVED') return;
        await client.query('UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1', [
          t.orderId,
          t.status,
        ]);
      }
      await this.append(client, t.orderId, t.items, entriesFor(from, t.status));
    });
  }

  private async append(
    client: PoolClient,
    orderId: string,
    items: readonly ReservationItem[],
    kinds: LedgerKind[],
  ): Promise<void> {
    if (!kinds.length || !items.length) return;
    const rows = kinds.flatMap((kind) =>
      items.map((i) => [i.sku, kind, ...DELTAS[kind].map((d) => d * i.quantity)] as const),
    );
    await client.query(
      `INSERT INTO stock_ledger (sku, order_id, kind, d_available, d_reserved, d_sold)
       SELECT sku, $1, kind, da, dr, ds FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[]) AS u(sku, kind, da, dr, ds)`,
      [
        orderId,
        rows.map((r) => r[0]),
        rows.map((r) => r[1]),
        rows.map((r) => r[2]),
        rows.map((r) => r[3]),
        rows.map((r) => r[4]),
      ],
    );
  }

  /** Records an admin change of available units (a delta) and registers the product. */
  async adjust(sku: string, deltaAvailable: number): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query(
        'INSERT INTO products (sku) VALUES ($1) ON CONFLICT (sku) DO UPDATE SET updated_at = now()',
        [sku],
      );
      if (deltaAvailable !== 0) {
        await client.query(
          "INSERT INTO stock_ledger (sku, kind, d_available, d_reserved, d_sold) VALUES ($1, 'ADJUST', $2, 0, 0)",
          [sku, deltaAvailable],
        );
      }
    });
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
