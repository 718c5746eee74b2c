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

/** Which table an event of `source` updates, and the row's key; undefined for events it ignores. */
function projectionTarget(source: SourceName, e: FeedEvent): { kind: string; key: string } | undefined {
  if (e.aggregateType === 'order' && (source === 'order' || source === 'monolith'))
    return { kind: 'order', key: String((e.payload as OrderPayload).orderId) };
  if (e.aggregateType === 'payment' && source === 'payment')
    return { kind: 'payment', key: String((e.payload as PaymentPayload).orderId) };
  if (e.aggregateType === 'product' && source === 'catalog')
    return { kind: 'product', key: String((e.payload as ProductPayload).sku) };
  return undefined;
}

/**
 * Applies one event inside the batch's transaction: {@link applyEvents} of one.
 *
 * @returns whether the event was new (not in the inbox)
 */
export async function applyEvent(
  db: PoolClient,
  tables: ProjectionTables,
  source: SourceName,
  e: FeedEvent,
): Promise<boolean> {
  return (await applyEvents(db, tables, source, [e])) === 1;
}

/**
 * Applies a page of events inside the batch's transaction, in ONE statement: the inbox insert of
 * every id is a CTE, and only the events it inserted (not there before: a duplicate delivery writes
 * nothing) reach the upserts; per row, the one with the highest sequence is upserted, and only if
 * that is higher than the row's (the version guard). Events carry whole states, so this equals
 * applying them one by one, at one round trip per page instead of one per event.
 *
 * @returns how many of the events were new (not in the inbox)
 */
export async function applyEvents(
  db: PoolClient,
  tables: ProjectionTables,
  source: SourceName,
  events: readonly FeedEvent[],
): Promise<number> {
  if (events.length === 0) return 0;
  const input = events.map((e) => {
    const target = projectionTarget(source, e);
    return {
      id: e.id,
      kind: target?.kind ?? null,
      key: target?.key ?? null,
      seq: e.sequence,
      payload: e.payload,
      occurred_at: e.occurredAt,
    };
  });
  const latest = (
    kind: string,
  ) => `SELECT DISTINCT ON (i.key) i.* FROM input i JOIN fresh f ON f.event_id = i.id
     WHERE i.kind = '${kind}' ORDER BY i.key, i.seq DESC`;
  const { rows } = await db.query<{ fresh: number }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb)
         AS x(id uuid, kind text, key text, seq bigint, payload jsonb, occurred_at timestamptz)),
     fresh AS (
       INSERT INTO ${tables.name('inbox')} (source, event_id) SELECT $1::text, id FROM input
       ON CONFLICT DO NOTHING RETURNING event_id),
     orders AS (
       INSERT INTO ${tables.name('order')} AS h (source, order_id, customer_id, status, rejection_reason, items, total, currency, placed_at, seq)
       SELECT $1::text, l.key, l.payload->>'customerId', l.payload->>'status', l.payload->>'rejectionReason',
              l.payload->'items', (l.payload->>'total')::numeric, l.payload->>'currency',
              coalesce((l.payload->>'placedAt')::timestamptz, l.occurred_at), l.seq
         FROM (${latest('order')}) l
       ON CONFLICT (source, order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, status = EXCLUDED.status,
         rejection_reason = EXCLUDED.rejection_reason, items = EXCLUDED.items, total = EXCLUDED.total,
         currency = EXCLUDED.currency, placed_at = EXCLUDED.placed_at, seq = EXCLUDED.seq
       WHERE h.seq < EXCLUDED.seq),
     payments AS (
       INSERT INTO ${tables.name('payment')} AS h (order_id, status, reason, seq)
       SELECT l.key, l.payload->>'status', l.payload->>'reason', l.seq FROM (${latest('payment')}) l
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, seq = EXCLUDED.seq
       WHERE h.seq < EXCLUDED.seq),
     products AS (
       INSERT INTO ${tables.name('product')} AS h (sku, name, seq)
       SELECT l.key, l.payload->>'name', l.seq FROM (${latest('product')}) l
       ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, seq = EXCLUDED.seq WHERE h.seq < EXCLUDED.seq)
     SELECT count(*)::int AS fresh FROM fresh`,
    [source, JSON.stringify(input)],
  );
  return rows[0]!.fresh;
}
