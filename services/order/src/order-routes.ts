import {
  currencySchema,
  customerIdSchema,
  HttpProblem,
  ownCustomer,
  idempotencyHeadersSchema,
  keyReusedProblem,
  linesSchema,
  moneySchema,
  paymentTokenSchema,
  quantitySchema,
  requestFingerprint,
  skuSchema,
  type SagaEngine,
  type SagaHandle,
  type SagaRecord,
} from '@aio/kit';
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import type { PriceReader } from './catalog-prices.js';
import { priceOrder, type PricedOrder, type RequestedLine } from './order-pricing.js';
import { ORDER_STEPS, PLACE_ORDER, type PlaceOrderInput } from './order-saga.js';
import { findByIdempotencyKey, findOrder, listOrders, orderInsert, type OrderRow } from './order-store.js';

interface PlaceOrderBody {
  /** Optional, and never trusted: the token's customer places the order; another value is a 403. */
  customerId?: string;
  items: RequestedLine[];
  currency: string;
  paymentToken: string;
}

/**
 * The same limits as inventory's and payment's (the kit's request-limits.ts), so an order they would
 * refuse is refused here, with a 400 naming the field, instead of ending REJECTED later. A line's
 * `unitPrice` is optional: the catalog sets the price, and a client that sends one states what it
 * expects to pay (a mismatch is a 409, see order-pricing.ts).
 */
const placeOrderSchema = {
  type: 'object',
  required: ['items', 'currency', 'paymentToken'],
  additionalProperties: false,
  properties: {
    customerId: customerIdSchema,
    currency: currencySchema,
    paymentToken: paymentTokenSchema,
    items: linesSchema({
      type: 'object',
      required: ['sku', 'quantity'],
      additionalProperties: false,
      properties: { sku: skuSchema, quantity: quantitySchema, unitPrice: moneySchema },
    }),
  },
} as const;

/**
 * The public order API, every route for the customer of the token (`auth: customer`, the kit checks
 * it): `POST /orders` (with `Prefer: wait=N` to get the outcome in the reply when the saga ends
 * within N seconds), `GET /orders/:orderId` (with `?waitMs=` to long-poll for a terminal status;
 * another customer's order is a 404, as if it did not exist), `GET /orders` (the caller's orders).
 * An `Idempotency-Key` is the caller's own: alice's key never finds bob's order.
 */
export function registerOrderRoutes(
  app: FastifyInstance,
  pool: Pool,
  engine: SagaEngine,
  readPrice: PriceReader,
): void {
  app.post<{ Body: PlaceOrderBody; Headers: { 'idempotency-key'?: string; prefer?: string } }>(
    '/orders',
    { config: { public: true }, schema: { body: placeOrderSchema, headers: idempotencyHeadersSchema } },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const preferWaitSeconds = preferredWait(req.headers.prefer);
      const customerId = ownCustomer(req, req.body.customerId);
      // the same request with or without the (redundant) customerId is the same request
      const body = { ...req.body, customerId };
      const requestHash = requestFingerprint(body);
      let priced: PricedOrder;
      try {
        priced = await priceOrder(body.items, body.currency, readPrice);
      } catch (err) {
        // a retry of an order placed before a price change (or during a catalog outage) gets its order
        const existing = key ? await findByIdempotencyKey(pool, customerId, key) : undefined;
        if (existing) {
          const first = replay(existing, requestHash, body, key!);
          return answer(reply, engine.handle(first.orderId), first, preferWaitSeconds);
        }
        if (err instanceof HttpProblem && typeof err.extra.retryAfterSeconds === 'number')
          void reply.header('retry-after', String(err.extra.retryAfterSeconds));
        throw err;
      }
      const { items, total } = priced;
      const orderId = randomUUID();
      const placedAt = new Date().toISOString();
      const input: PlaceOrderInput = {
        orderId,
        customerId,
        items,
        total,
        currency: body.currency,
        paymentToken: body.paymentToken,
        placedAt,
      };
      const order = {
        orderId,
        customerId,
        items,
        total,
        currency: body.currency,
        requestHash,
        placedAt,
      };
      // one statement inserts the order and its saga: no order without its saga, one round trip
      const created = await engine.createWith(pool, orderInsert(order, key), PLACE_ORDER, input, orderId);
      if (!created) {
        const existing = key ? await findByIdempotencyKey(pool, customerId, key) : undefined;
        if (!existing) throw new HttpProblem(500, 'order vanished after an idempotency conflict');
        const first = replay(existing, requestHash, body, key!);
        // a replay honours Prefer: wait as the first request did (the saga may run on another replica)
        return answer(reply, engine.handle(first.orderId), first, preferWaitSeconds);
      }
      created.dispatch();
      // the saga runs here, so its end wakes a waiting request with no read
      return answer(reply, created, { orderId, status: 'PENDING' }, preferWaitSeconds);
    },
  );

  app.get<{ Params: { orderId: string }; Querystring: { waitMs?: number } }>(
    '/orders/:orderId',
    {
      // order ids are UUIDs, the monolith's are sequence numbers: reads of ours always come here
      config: { public: true, ownIds: UUID_PATTERN },
      schema: {
        querystring: {
          type: 'object',
          properties: { waitMs: { type: 'integer', minimum: 0, maximum: 30000 } },
        },
      },
    },
    async (req) => {
      const { orderId } = req.params;
      const customerId = ownCustomer(req, undefined);
      if (!UUID.test(orderId)) throw new HttpProblem(404, `no order ${orderId}`);
      const order = await findOrder(pool, orderId);
      // another customer's order is not there for the caller: the same 404, nothing to tell them apart
      if (!order || order.customerId !== customerId) throw new HttpProblem(404, `no order ${orderId}`);
      const waitMs = req.query.waitMs ?? 0;
      const saga = engine.handle(orderId);
      if (waitMs > 0 && order.status === 'PENDING') {
        // a saga running here wakes this request when it ends (no read); one elsewhere is polled
        const view = finishedView(await saga.getResult({ timeoutMs: waitMs }));
        if (view) return view;
        return orderView((await findOrder(pool, orderId)) ?? order, await saga.getStatus());
      }
      return orderView(order, await saga.getStatus());
    },
  );

  app.get<{ Querystring: { customerId?: string; limit?: number } }>(
    '/orders',
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
      const customerId = ownCustomer(req, req.query.customerId, 'query customerId');
      const orders = await listOrders(pool, customerId, req.query.limit ?? 100);
      return { orders: orders.map((o) => orderView(o, undefined)) };
    },
  );
}

/**
 * POST /orders' reply: with `Prefer: wait=N`, 201 and the whole order document when the saga settles
 * within N seconds; otherwise (or still pending) 202 with `accepted`.
 */
async function answer(
  reply: FastifyReply,
  saga: SagaHandle,
  accepted: { orderId: string; status: string },
  preferWaitSeconds: number,
): Promise<FastifyReply> {
  void reply.header('location', `/orders/${accepted.orderId}`);
  if (preferWaitSeconds) {
    void reply.header('preference-applied', `wait=${preferWaitSeconds}`);
    const view = finishedView(await saga.getResult({ timeoutMs: preferWaitSeconds * 1000 }));
    if (view) return reply.code(201).send(view);
  }
  return reply.code(202).send(accepted);
}

const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID = new RegExp(`^${UUID_PATTERN}$`, 'i');

/**
 * The order document of a saga that ended, without reading the order: the saga input holds the
 * order's values, and its end state is what the finish hook wrote to the order row in the same
 * statement. Undefined when the wait timed out or the saga went to an operator (the order stays PENDING).
 */
function finishedView(saga: SagaRecord | undefined): Record<string, unknown> | undefined {
  if (saga?.state !== 'COMPLETED' && saga?.state !== 'COMPENSATED') return undefined;
  const input = saga.input as PlaceOrderInput;
  const approved = saga.state === 'COMPLETED';
  const order: OrderRow = {
    orderId: input.orderId,
    customerId: input.customerId,
    status: approved ? 'APPROVED' : 'REJECTED',
    rejectionReason: approved ? null : (saga.failure?.reason ?? 'REJECTED'),
    items: [...input.items],
    total: input.total,
    currency: input.currency,
    requestHash: '',
  };
  return orderView(order, saga);
}

/**
 * The `wait` preference of a `Prefer` header (RFC 7240), in seconds, capped at 30; 0 when absent.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7240#section-4.3
 */
export function preferredWait(header: string | string[] | undefined): number {
  const values = Array.isArray(header) ? header.join(',') : (header ?? '');
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d+)"?/i.exec(values);
  return match ? Math.min(30, Number(match[1])) : 0;
}

/**
 * The replay rule for `Idempotency-Key`: the same request gets the order back, another one 422. Orders
 * stored before the canonical fingerprint carry the digest of the body as it was sent.
 */
function replay(existing: OrderRow, requestHash: string, body: PlaceOrderBody, key: string) {
  // rows from before the token carry the fingerprint of the body as sent, customerId included
  const legacyHash = () => createHash('sha256').update(JSON.stringify(body)).digest('hex');
  if (existing.requestHash !== requestHash && existing.requestHash !== legacyHash()) {
    throw keyReusedProblem(`Idempotency-Key ${JSON.stringify(key)}`, key);
  }
  return { orderId: existing.orderId, status: existing.status };
}

/** The contract's order document; `saga` is included when the saga was loaded. */
export function orderView(order: OrderRow, saga: SagaRecord | undefined): Record<string, unknown> {
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    status: order.status,
    ...(order.rejectionReason ? { rejectionReason: order.rejectionReason } : {}),
    items: order.items,
    total: order.total,
    currency: order.currency,
    ...(saga
      ? {
          saga: {
            sagaId: saga.id,
            state: saga.state,
            version: saga.version,
            ...(saga.failure ? { failure: saga.failure } : {}),
            steps: ORDER_STEPS.map((name) => ({
              name,
              status: saga.steps[name]?.status ?? 'PENDING',
              attempts: saga.steps[name]?.attempts ?? 0,
              ...(saga.steps[name]?.compensationAttempts
                ? { compensationAttempts: saga.steps[name].compensationAttempts }
                : {}),
            })),
          },
        }
      : {}),
  };
}
