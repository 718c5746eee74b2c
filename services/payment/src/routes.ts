import { HttpProblem } from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import type { AuthorizeInput, Payments } from './payments.js';

const ORDER_ID = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } as const;
const orderParams = { type: 'object', required: ['orderId'], properties: { orderId: ORDER_ID } } as const;

const authorizeBody = {
  type: 'object',
  required: ['orderId', 'customerId', 'amount', 'currency', 'paymentToken'],
  properties: {
    orderId: ORDER_ID,
    customerId: { type: 'string', minLength: 1, maxLength: 128 },
    amount: { type: 'number', exclusiveMinimum: 0, maximum: 10_000_000 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    paymentToken: { type: 'string', minLength: 1, maxLength: 255 },
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
    { schema: { body: authorizeBody, response: { 201: outcome, 402: outcome, 409: outcome } } },
    async (request, reply) => {
      const amountMinor = Math.round(request.body.amount * 100);
      if (Math.abs(amountMinor - request.body.amount * 100) > 1e-6) {
        throw new HttpProblem(400, `amount: must have at most 2 decimals, got ${request.body.amount}`, {
          'invalid-params': [{ name: 'amount', reason: 'must have at most 2 decimals' }],
        });
      }
      const response = await payments.authorize(request.body, amountMinor);
      return reply.code(response.statusCode).send(response.body);
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/payments/:orderId/capture',
    { schema: { params: orderParams, response: { 200: outcome, 409: outcome } } },
    async (request, reply) => {
      const response = await payments.capture(request.params.orderId);
      if (!response) throw new HttpProblem(404, `payment for order ${request.params.orderId} not found`);
      return reply.code(response.statusCode).send(response.body);
    },
  );

  app.post<{ Params: { orderId: string } }>(
    '/payments/:orderId/void',
    { schema: { params: orderParams, response: { 200: outcome, 409: outcome } } },
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
