import {
  currencySchema,
  customerIdSchema,
  HttpProblem,
  idempotencyHeadersSchema as headers,
  moneySchema,
  paymentTokenSchema,
  resourceIdSchema,
  toMinorUnits,
} from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import type { AuthorizeInput, Payments } from './payments.js';

// The limits are the kit's (request-limits.ts), so the order service refuses the same inputs up front.
const orderParams = {
  type: 'object',
  required: ['orderId'],
  properties: { orderId: resourceIdSchema },
} as const;

const authorizeBody = {
  type: 'object',
  required: ['orderId', 'customerId', 'amount', 'currency', 'paymentToken'],
  additionalProperties: false,
  properties: {
    orderId: resourceIdSchema,
    customerId: customerIdSchema,
    amount: moneySchema,
    currency: currencySchema,
    paymentToken: paymentTokenSchema,
  },
} as const;

/** Response shapes: they document the contract; `additionalProperties` keeps extra fields. */
const outcome = {
  type: 'object',
  required: ['orderId', 'status'],
  additionalProperties: true,
  properties: { orderId: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' } },
} as const;
const payment = {
  type: 'object',
  required: ['orderId', 'status', 'amount', 'captures'],
  additionalProperties: true,
  properties: {
    orderId: { type: 'string' },
    status: { type: 'string' },
    amount: { type: 'number' },
    currency: { type: ['string', 'null'] },
    captures: { type: 'integer' },
    reason: { type: 'string' },
  },
} as const;

/** Registers payment's HTTP contract (see services/payment/README.md). */
export function registerPaymentRoutes(app: FastifyInstance, payments: Payments): void {
  app.post<{ Body: AuthorizeInput }>(
    '/payments',
    { schema: { body: authorizeBody, headers, response: { 201: outcome, 402: outcome, 409: outcome } } },
    async (request, reply) => {
      // In the currency's minor units (cents, yen, fils); more decimals than it has is a 400.
      const amountMinor = toMinorUnits(request.body.amount, request.body.currency, 'amount');
      const response = await payments.authorize(request.body, amountMinor);
      return reply.code(response.statusCode).send(response.body);
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/payments/:orderId/capture',
    { schema: { params: orderParams, headers, response: { 200: outcome, 409: outcome } } },
    async (request, reply) => {
      const response = await payments.capture(request.params.orderId);
      if (!response) throw new HttpProblem(404, `payment for order ${request.params.orderId} not found`);
      return reply.code(response.statusCode).send(response.body);
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/payments/:orderId/void',
    { schema: { params: orderParams, headers, response: { 200: outcome, 409: outcome } } },
    async (request, reply) => {
      const response = await payments.void(request.params.orderId);
      return reply.code(response.statusCode).send(response.body);
    },
  );

  app.get<{ Params: { orderId: string } }>(
    '/payments/:orderId',
    { schema: { params: orderParams, response: { 200: payment } } },
    async (request) => {
      const payment = await payments.get(request.params.orderId);
      if (!payment) throw new HttpProblem(404, `payment for order ${request.params.orderId} not found`);
      return payment;
    },
  );
}
