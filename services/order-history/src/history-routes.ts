import { HttpProblem } from '@aio/kit';
import type { FastifyInstance, Pool } from '@aio/kit';
import { callerCustomerId, type CallerResolver } from './caller.js';

/** The public path (the gateway maps `/api/me/orders` to it). */
export const MY_ORDERS_PATH = '/me/orders';

interface HistoryRow {
  source: string;
  order_id: string;
  status: string;
  rejection_reason: string | null;
  items: { sku: string; quantity: number; unitPrice: number; name?: string }[];
  total: string;
  currency: string;
  placed_at: Date;
  /** placed_at as Postgres prints it: every microsecond, so a page position is exact. */
  position_at: string;
  payment_status: string | null;
}

/** A page position: the last order shown, as (placedAt, source, orderId), base64url JSON. */
function encodePosition(r: HistoryRow): string {
  return Buffer.from(JSON.stringify([r.position_at, r.source, r.order_id])).toString('base64url');
}

function decodePosition(after: string): [string, string, string] {
  try {
    const v = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      v.every((x) => typeof x === 'string') &&
      !isNaN(Date.parse(String(v[0])))
    )
      return v as [string, string, string];
  } catch {
    // fall through
  }
  throw new HttpProblem(400, `after: must be the "next" of a previous page, got ${JSON.stringify(after)}`, {
    'invalid-params': [{ name: 'after', reason: 'must be the "next" of a previous page' }],
  });
}

/**
 * `GET /me/orders?limit=&after=`: the caller's orders from both sides (the monolith's and the order
 * service's), newest first, by keyset pages (`next` is the position of the last one shown, so a page
 * never repeats or skips an order when new ones arrive), each with its items (names from the
 * catalog when known), total, status and payment status. Only the caller's rows are ever read: the
 * customer id comes from the token, and it is the first column of every query.
 */
export function registerHistoryRoutes(app: FastifyInstance, pool: Pool, caller: CallerResolver): void {
  app.get<{ Querystring: { limit?: number; after?: string } }>(
    MY_ORDERS_PATH,
    {
      config: { public: true },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100 },
            after: { type: 'string', minLength: 1, maxLength: 400, pattern: '^[A-Za-z0-9_-]+$' },
          },
        },
      },
    },
    async (req) => {
      const customerId = callerCustomerId(req, caller);
      const limit = req.query.limit ?? 20;
      const position = req.query.after ? decodePosition(req.query.after) : undefined;
      const { rows } = await pool.query<HistoryRow>(
        `SELECT o.source, o.order_id, o.status, o.rejection_reason, o.total::text AS total, o.currency, o.placed_at,
                o.placed_at::text AS position_at,
                (SELECT jsonb_agg(i || jsonb_build_object('name', p.name) ORDER BY n)
                   FROM jsonb_array_elements(o.items) WITH ORDINALITY AS e(i, n)
                   LEFT JOIN history_product p ON p.sku = i->>'sku') AS items,
                pay.status AS payment_status
           FROM history_order o
           LEFT JOIN history_payment pay ON o.source = 'order' AND pay.order_id = o.order_id
          WHERE o.customer_id = $1
            AND ($2::timestamptz IS NULL OR (o.placed_at, o.source, o.order_id) < ($2::timestamptz, $3::text, $4::text))
          ORDER BY o.placed_at DESC, o.source DESC, o.order_id DESC
          LIMIT $5`,
        [customerId, position?.[0] ?? null, position?.[1] ?? null, position?.[2] ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      return {
        orders: page.map((r) => ({
          orderId: r.order_id,
          origin: r.source === 'monolith' ? 'legacy' : 'service',
          status: r.status,
          ...(r.rejection_reason ? { rejectionReason: r.rejection_reason } : {}),
          placedAt: r.placed_at.toISOString(),
          items: r.items.map(({ sku, name, quantity, unitPrice }) => ({
            sku,
            name: name ?? null,
            quantity,
            unitPrice,
          })),
          total: Number(r.total),
          currency: r.currency,
          paymentStatus: r.source === 'monolith' ? 'NOT_TRACKED' : (r.payment_status ?? 'NONE'),
        })),
        ...(rows.length > limit ? { next: encodePosition(page.at(-1)!) } : {}),
      };
    },
  );
}
