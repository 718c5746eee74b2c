import type { FeedEvent, PoolClient } from '@aio/kit';

/** A source of the read model: a producer's feed, by the name the platform gives the producer. */
export type SourceName = 'order' | 'payment' | 'monolith' | 'catalog';

/** The tables one projection writes: the live set (`''`) or the rebuild's (`_rebuild`). */
export class ProjectionTables {
  public constructor(public readonly suffix: string) {}
  public name(table: 'order' | 'payment' | 'product' | 'inbox' | 'cursor'): string {
    return `history_${table}${this.suffix}`;
  }
}

interface OrderPayload {
  orderId: string;
  customerId: string;
  status: string;
  rejectionReason?: string;
  items: unknown[];
  total: number;
  currency: string;
  placedAt?: string;
}

interface PaymentPayload {
  orderId: string;
  status: string;
  reason?: string | null;
}

interface ProductPayload {
  sku: string;
  name: string;
}

/**
 * Applies one event inside the batch's transaction: records its id in the inbox and, only when it
 * was not there, upserts the row of its aggregate if its sequence is higher than the row's (the
 * version guard). One statement: the inbox insert is a CTE that the upsert depends on, so a
 * duplicate delivery writes nothing at all.
 *
 * @returns whether the event was new (not in the inbox)
 */
export async function applyEvent(
  db: PoolClient,
  tables: ProjectionTables,
  source: SourceName,
  e: FeedEvent,
): Promise<boolean> {
  const inbox = `fresh AS (INSERT INTO ${tables.name('inbox')} (source, event_id) VALUES ($1::text, $2::uuid)
    ON CONFLICT DO NOTHING RETURNING 1)`;
  const upsert = projectionUpsert(tables, source, e);
  const sql = upsert
    ? `WITH ${inbox}, applied AS (${upsert.sql}) SELECT count(*)::int AS fresh FROM fresh`
    : `WITH ${inbox} SELECT count(*)::int AS fresh FROM fresh`;
  const { rows } = await db.query<{ fresh: number }>(sql, [source, e.id, ...(upsert?.params ?? [])]);
  return rows[0]!.fresh === 1;
}

/** The guarded upsert for an event of a kind the read model uses; undefined for the others. */
function projectionUpsert(
  tables: ProjectionTables,
  source: SourceName,
  e: FeedEvent,
): { sql: string; params: unknown[] } | undefined {
  if (e.aggregateType === 'order' && (source === 'order' || source === 'monolith')) {
    const p = e.payload as OrderPayload;
    const t = tables.name('order');
    return {
      sql: `INSERT INTO ${t} AS h (source, order_id, customer_id, status, rejection_reason, items, total, currency, placed_at, seq)
            SELECT $1::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::numeric, $9::text, $10::timestamptz, $11::bigint
             WHERE EXISTS (SELECT 1 FROM fresh)
            ON CONFLICT (source, order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, status = EXCLUDED.status,
              rejection_reason = EXCLUDED.rejection_reason, items = EXCLUDED.items, total = EXCLUDED.total,
              currency = EXCLUDED.currency, placed_at = EXCLUDED.placed_at, seq = EXCLUDED.seq
            WHERE h.seq < EXCLUDED.seq`,
      params: [
        p.orderId,
        p.customerId,
        p.status,
        p.rejectionReason ?? null,
        JSON.stringify(p.items),
        p.total,
        p.currency,
        p.placedAt ?? e.occurredAt,
        e.sequence,
      ],
    };
  }
  if (e.aggregateType === 'payment' && source === 'payment') {
    const p = e.payload as PaymentPayload;
    return {
      sql: `INSERT INTO ${tables.name('payment')} AS h (order_id, status, reason, seq)
            SELECT $3::text, $4::text, $5::text, $6::bigint WHERE EXISTS (SELECT 1 FROM fresh)
            ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, seq = EXCLUDED.seq
            WHERE h.seq < EXCLUDED.seq`,
      params: [p.orderId, p.status, p.reason ?? null, e.sequence],
    };
  }
  if (e.aggregateType === 'product' && source === 'catalog') {
    const p = e.payload as ProductPayload;
    return {
      sql: `INSERT INTO ${tables.name('product')} AS h (sku, name, seq)
            SELECT $3::text, $4::text, $5::bigint WHERE EXISTS (SELECT 1 FROM fresh)
            ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, seq = EXCLUDED.seq WHERE h.seq < EXCLUDED.seq`,
      params: [p.sku, p.name, e.sequence],
    };
  }
  return undefined;
}
