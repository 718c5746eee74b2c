import {
  HttpProblem,
  idempotencyHeadersSchema as headers,
  keyReusedProblem,
  linesSchema,
  quantitySchema,
  resourceIdSchema,
  skuSchema,
  stockLevelSchema,
} from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import type { StockLedger } from './stock-ledger.js';
import type { ReservationItem, StockStore } from './stock-store.js';

// The limits are the kit's (request-limits.ts), so the order service refuses the same inputs up front.
const skuParams = { type: 'object', required: ['sku'], properties: { sku: skuSchema } } as const;
const orderParams = {
  type: 'object',
  required: ['orderId'],
  properties: { orderId: resourceIdSchema },
} as const;

const stockBody = {
  type: 'object',
  required: ['available'],
  additionalProperties: false,
  properties: { available: stockLevelSchema },
} as const;

const reserveBody = {
  type: 'object',
  required: ['orderId', 'items'],
  additionalProperties: false,
  properties: {
    orderId: resourceIdSchema,
    items: linesSchema({
      type: 'object',
      required: ['sku', 'quantity'],
      additionalProperties: false,
      properties: { sku: skuSchema, quantity: quantitySchema },
    }),
  },
} as const;

/** Response shapes: they document the contract; `additionalProperties` keeps extra fields. */
const obj = (required: readonly string[], properties: Record<string, unknown>) =>
  ({ type: 'object', required, additionalProperties: true, properties }) as const;
const stockLevels = obj(['sku', 'available', 'reserved', 'sold'], {
  sku: { type: 'string' },
  available: { type: 'integer' },
  reserved: { type: 'integer' },
  sold: { type: 'integer' },
});
const outcome = obj(['orderId', 'status'], {
  orderId: { type: 'string' },
  status: { type: 'string' },
  expiresAt: { type: 'string' },
  reason: { type: 'string' },
  sku: { type: 'string' },
  previousStatus: { type: 'string' },
});
const reservation = obj(['orderId', 'status', 'items'], {
  orderId: { type: 'string' },
  status: { type: 'string' },
  items: {
    type: 'array',
    items: obj(['sku', 'quantity'], { sku: { type: 'string' }, quantity: { type: 'integer' } }),
  },
  expiresAt: { type: 'string' },
  reason: { type: 'string' },
  sku: { type: 'string' },
});

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * Registers inventory's HTTP contract (see services/inventory/README.md).
 *
 * Every write goes to Redis first (the atomic decision) and then to the Postgres ledger; the ledger write
 * is idempotent, so a retry after a failed ledger write completes it.
 */
export function registerInventoryRoutes(app: FastifyInstance, store: StockStore, ledger: StockLedger): void {
  app.put<{ Params: { sku: string }; Body: { available: number } }>(
    '/stock/:sku',
    { schema: { params: skuParams, body: stockBody, headers, response: { 200: stockLevels } } },
    async (request) => {
      const { sku } = request.params;
      // The script returns the levels it left: no read after the write.
      const { delta, levels } = await store.setStock(sku, request.body.available);
      await ledger.adjust(sku, delta);
      return { sku, ...levels };
    },
  );

  app.get<{ Params: { sku: string } }>(
    '/stock/:sku',
    {
      config: { public: true, auth: 'public' },
      schema: { params: skuParams, response: { 200: stockLevels } },
    },
    async (request) => {
      const levels = await store.levels(request.params.sku);
      if (!levels && !(await store.hasEpoch()))
        throw new HttpProblem(
          503,
          'inventory is rebuilding its stock counters after Redis lost its data; retry shortly',
        );
      if (!levels)
        throw new HttpProblem(
          404,
          `sku ${request.params.sku} has no stock record; set it with PUT /stock/:sku`,
        );
      return { sku: request.params.sku, ...levels };
    },
  );

  app.post<{ Body: { orderId: string; items: ReservationItem[] } }>(
    '/reservations',
    { schema: { body: reserveBody, headers, response: { 200: outcome, 201: outcome, 409: outcome } } },
    async (request, reply) => {
      const { orderId, items } = request.body;
      let outcome = await store.reserve(orderId, items);
      if (outcome.conflict) throw keyReusedProblem(`reservation ${orderId}`, orderId);
      if (outcome.status !== 'REJECTED' || outcome.fresh) {
        const before = await ledger.record({
          orderId,
          status: outcome.status,
          items: outcome.items,
          ...(outcome.expiresAt ? { expiresAt: outcome.expiresAt } : {}),
          ...(outcome.sku ? { sku: outcome.sku } : {}),
        });
        // Decided afresh, yet Postgres knew the order: Redis lost its record. The durable one wins.
        if (outcome.fresh && before !== 'NONE') {
          outcome = await store.replaceWithDurable(orderId, outcome);
          if (outcome.conflict) throw keyReusedProblem(`reservation ${orderId}`, orderId);
        }
      }
      switch (outcome.status) {
        case 'RESERVED':
          return reply.code(201).send({ orderId, status: 'RESERVED', expiresAt: iso(outcome.expiresAt) });
        case 'REJECTED':
          return reply
            .code(409)
            .send({ orderId, status: 'REJECTED', reason: 'INSUFFICIENT_STOCK', sku: outcome.sku });
        case 'COMMITTED':
          return reply.code(200).send({ orderId, status: 'COMMITTED' });
        default:
          return reply
            .code(409)
            .send({ orderId, status: outcome.status, reason: `RESERVATION_${outcome.status}` });
      }
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/reservations/:orderId/commit',
    { schema: { params: orderParams, headers, response: { 200: outcome, 409: outcome } } },
    async (request, reply) => {
      const { orderId } = request.params;
      const outcome = await store.commit(orderId);
      if (outcome.status === 'NOT_FOUND')
        throw new HttpProblem(404, `reservation ${orderId} not found`, { orderId });
      // Also on replays: the durable write is idempotent, and a retry completes one that failed.
      await ledger.record({ orderId, status: outcome.status, items: outcome.items });
      if (outcome.status === 'COMMITTED') return { orderId, status: 'COMMITTED' };
      return reply
        .code(409)
        .send({ orderId, status: outcome.status, reason: `RESERVATION_${outcome.status}` });
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/reservations/:orderId/release',
    { schema: { params: orderParams, headers, response: { 200: outcome, 409: outcome } } },
    async (request, reply) => {
      const { orderId } = request.params;
      const outcome = await store.release(orderId);
      if (outcome.status !== 'NOT_FOUND')
        await ledger.record({ orderId, status: outcome.status, items: outcome.items });
      if (outcome.status === 'COMMITTED') {
        return reply.code(409).send({ orderId, status: 'COMMITTED', reason: 'RESERVATION_COMMITTED' });
      }
      // RELEASED, EXPIRED, REJECTED or a new tombstone: nothing is held any more, which is what release asks.
      return {
        orderId,
        status: 'RELEASED',
        ...(outcome.status !== 'RELEASED' ? { previousStatus: outcome.status } : {}),
      };
    },
  );

  app.get<{ Params: { orderId: string } }>(
    '/reservations/:orderId',
    { schema: { params: orderParams, response: { 200: reservation } } },
    async (request) => {
      const { orderId } = request.params;
      const record = (await store.getReservation(orderId)) ?? (await ledger.reservation(orderId));
      if (!record) throw new HttpProblem(404, `reservation ${orderId} not found`, { orderId });
      return { orderId, ...record, expiresAt: iso(record.expiresAt) };
    },
  );
}
