import {
  currencySchema,
  customerIdSchema,
  HttpProblem,
  moneySchema,
  ownCustomer,
  paymentTokenSchema,
  quantitySchema,
  recordEvents,
  skuSchema,
  stockLevelSchema,
  withTransaction,
} from '@aio/kit';
import type { FastifyInstance, OutboxEvent } from '@aio/kit';
import type { Pool } from 'pg';
import { LEGACY_ID_PATTERN, legacyId } from './ids.js';

interface OrderItem {
  sku: string;
  quantity: number;
  unitPrice: number;
}
interface PlaceOrderBody {
  /** Optional and never trusted: the token's customer orders; another value is a 403. */
  customerId?: string;
  items: OrderItem[];
  currency: string;
  paymentToken: string;
}

// The same limits as the services' (one definition in the kit), so bad input is a 400, never a 500.
const SKU = skuSchema;

const placeOrderSchema = {
  type: 'object',
  required: ['items', 'currency', 'paymentToken'],
  properties: {
    customerId: customerIdSchema,
    currency: currencySchema,
    paymentToken: paymentTokenSchema,
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['sku', 'quantity', 'unitPrice'],
        properties: {
          sku: SKU,
          quantity: quantitySchema,
          unitPrice: moneySchema,
        },
      },
    },
  },
} as const;

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: string;
  rejection_reason: string | null;
  items: OrderItem[];
  total: string;
  currency: string;
  created_at: Date;
}

const view = (r: OrderRow) => ({
  orderId: r.order_id,
  customerId: r.customer_id,
  status: r.status,
  ...(r.rejection_reason ? { rejectionReason: r.rejection_reason } : {}),
  items: r.items,
  total: Number(r.total),
  currency: r.currency,
});

/**
 * A legacy order as an outbox event, in the order service's event schema (`order.approved` or
 * `order.rejected`, version 1: the whole order), so a read model treats both sides alike. The
 * monolith decides at once, so there is no `order.placed`. Migration 002 records the same for every
 * order older than the outbox.
 */
function legacyOrderEvent(r: OrderRow): OutboxEvent {
  return {
    aggregateType: 'order',
    aggregateId: String(r.order_id),
    type: r.status === 'APPROVED' ? 'order.approved' : 'order.rejected',
    schemaVersion: 1,
    payload: { ...view(r), orderId: String(r.order_id), placedAt: r.created_at.toISOString() },
  };
}

/**
 * The legacy order and stock API: `POST /api/orders` decides at once (stock taken in the same
 * transaction, no saga: the "before" the order service replaces), `GET /api/orders/:orderId`,
 * `GET /api/orders` (the caller's), `GET /api/stock/:sku` (public), and the operator's
 * `PUT /api/stock/:sku`. The order routes are the token's customer's, as on the order service: the
 * same tokens, the same own-data rules.
 */
export function registerOrderRoutes(app: FastifyInstance, pool: Pool): void {
  app.post<{ Body: PlaceOrderBody }>(
    '/api/orders',
    { config: { public: true }, schema: { body: placeOrderSchema } },
    async (req, reply) => {
      const customerId = ownCustomer(req, req.body.customerId);
      const { items, currency } = req.body;
      const total = Math.round(items.reduce((s, i) => s + i.quantity * i.unitPrice, 0) * 100) / 100;
      const row = await withTransaction(pool, async (client) => {
        let short: string | undefined;
        await client.query('SAVEPOINT take_stock');
        // sorted, so two orders over the same SKUs lock them in one order
        for (const item of [...items].sort((a, b) => a.sku.localeCompare(b.sku))) {
          const { rowCount } = await client.query(
            'UPDATE stock SET available = available - $2 WHERE sku = $1 AND available >= $2',
            [item.sku, item.quantity],
          );
          if (rowCount === 0) {
            short = item.sku;
            break;
          }
        }
        // all or nothing: a short SKU gives back what the earlier items took
        if (short) await client.query('ROLLBACK TO SAVEPOINT take_stock');
        const { rows } = await client.query<OrderRow>(
          `INSERT INTO orders (customer_id, status, rejection_reason, items, total, currency)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [
            customerId,
            short ? 'REJECTED' : 'APPROVED',
            short ? `INSUFFICIENT_STOCK:${short}` : null,
            JSON.stringify(items),
            total,
            currency,
          ],
        );
        // the order's event, in the order's transaction (the monolith's feed, GET /events)
        await recordEvents(client, [legacyOrderEvent(rows[0]!)]);
        return rows[0]!;
      });
      void reply.header('location', `/api/orders/${row.order_id}`);
      return reply.code(201).send(view(row));
    },
  );

  app.get<{ Params: { orderId: string } }>(
    '/api/orders/:orderId',
    { config: { public: true, ownIds: LEGACY_ID_PATTERN } },
    async (req) => {
      const id = legacyId('order', req.params.orderId);
      const customerId = ownCustomer(req, undefined);
      // another customer's order is not there for the caller: the same 404 as an unknown one
      const { rows } = await pool.query<OrderRow>(
        'SELECT * FROM orders WHERE order_id = $1 AND customer_id = $2',
        [id, customerId],
      );
      if (!rows[0]) throw new HttpProblem(404, `no order ${id}`);
      return view(rows[0]);
    },
  );

  app.get<{ Querystring: { customerId?: string; limit?: number } }>(
    '/api/orders',
    {
      config: { public: true },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            customerId: customerIdSchema,
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
        },
      },
    },
    async (req) => {
      const { rows } = await pool.query<OrderRow>(
        'SELECT * FROM orders WHERE customer_id = $1 ORDER BY order_id DESC LIMIT $2',
        [ownCustomer(req, req.query.customerId, 'query customerId'), req.query.limit ?? 100],
      );
      return { orders: rows.map(view) };
    },
  );

  const skuParams = { type: 'object', required: ['sku'], properties: { sku: SKU } } as const;
  app.get<{ Params: { sku: string } }>(
    '/api/stock/:sku',
    { config: { public: true, auth: 'public' }, schema: { params: skuParams } },
    async (req) => {
      const { rows } = await pool.query<{ available: number }>('SELECT available FROM stock WHERE sku = $1', [
        req.params.sku,
      ]);
      if (!rows[0]) throw new HttpProblem(404, `sku ${req.params.sku} has no stock record`);
      return { sku: req.params.sku, available: rows[0].available };
    },
  );

  // Operator only: never public, so no route reaches it from the edge.
  app.put<{ Params: { sku: string }; Body: { available: number } }>(
    '/api/stock/:sku',
    {
      schema: {
        params: skuParams,
        body: {
          type: 'object',
          required: ['available'],
          properties: { available: stockLevelSchema },
        },
      },
    },
    async (req) => {
      await pool.query(
        `INSERT INTO stock (sku, available) VALUES ($1, $2)
         ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available`,
        [req.params.sku, req.body.available],
      );
      return { sku: req.params.sku, available: req.body.available };
    },
  );
}
