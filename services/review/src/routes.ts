import { customerIdSchema, HttpProblem, skuSchema } from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import { reviewAuthor } from './review-author.js';
import type { ReviewInput, Reviews } from './reviews.js';

/** Review ids are UUIDs minted here: the gateway sends reads of them to review at every weight. */
const REVIEW_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Free text: bounded, and no NUL or other C0 control but tab and newlines (Postgres `text` refuses NUL). */
const text = (minLength: number, maxLength: number) =>
  ({
    type: 'string',
    minLength,
    maxLength,
    pattern: '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$',
  }) as const;

const createBody = {
  type: 'object',
  required: ['sku', 'rating', 'title', 'body'],
  additionalProperties: false,
  properties: {
    sku: skuSchema,
    customerId: customerIdSchema,
    rating: { type: 'integer', minimum: 1, maximum: 5 },
    title: text(1, 200),
    body: text(0, 5000),
  },
} as const;

const review = {
  type: 'object',
  required: ['reviewId', 'sku', 'customerId', 'rating', 'title', 'body', 'createdAt'],
  properties: {
    reviewId: { type: 'string' },
    sku: { type: 'string' },
    customerId: { type: 'string' },
    rating: { type: 'integer' },
    title: { type: 'string' },
    body: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;

const summary = {
  type: 'object',
  required: ['sku', 'count', 'average', 'histogram'],
  properties: {
    sku: { type: 'string' },
    count: { type: 'integer' },
    average: { type: ['number', 'null'] },
    histogram: {
      type: 'object',
      required: ['1', '2', '3', '4', '5'],
      properties: Object.fromEntries(['1', '2', '3', '4', '5'].map((k) => [k, { type: 'integer' }])),
    },
  },
} as const;

/**
 * Registers review's HTTP contract (services/review/README.md): the reviews API the gateway routes
 * under /api/reviews (writing one takes a customer token, reading is public), and the rating
 * summary other services read (not routed).
 */
export function registerReviewRoutes(app: FastifyInstance, reviews: Reviews): void {
  app.post<{ Body: ReviewInput & { customerId?: string } }>(
    '/reviews',
    { config: { public: true }, schema: { body: createBody, response: { 200: review, 201: review } } },
    async (request, reply) => {
      const { sku, rating, title, body } = request.body;
      const { outcome, review } = await reviews.create(reviewAuthor(request), { sku, rating, title, body });
      return reply.code(outcome === 'created' ? 201 : 200).send(review);
    },
  );

  app.get<{ Querystring: { sku: string; limit?: number } }>(
    '/reviews',
    {
      config: { public: true, auth: 'public' },
      schema: {
        querystring: {
          type: 'object',
          required: ['sku'],
          additionalProperties: false,
          properties: { sku: skuSchema, limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['sku', 'reviews'],
            properties: { sku: { type: 'string' }, reviews: { type: 'array', items: review } },
          },
        },
      },
    },
    async (request) => ({
      sku: request.query.sku,
      reviews: await reviews.list(request.query.sku, request.query.limit ?? 20),
    }),
  );

  app.get<{ Params: { reviewId: string } }>(
    '/reviews/:reviewId',
    {
      config: { public: true, auth: 'public', ownIds: REVIEW_ID },
      schema: {
        params: {
          type: 'object',
          required: ['reviewId'],
          properties: { reviewId: { type: 'string', pattern: `^${REVIEW_ID}$` } },
        },
        response: { 200: review },
      },
    },
    async (request) => {
      const found = await reviews.get(request.params.reviewId);
      if (!found) throw new HttpProblem(404, `review ${request.params.reviewId} not found`);
      return found;
    },
  );

  // The catalog's product page reads this through its dependency wrapper; not routed at the edge.
  app.get<{ Params: { sku: string } }>(
    '/ratings/:sku',
    {
      schema: {
        params: { type: 'object', required: ['sku'], properties: { sku: skuSchema } },
        response: { 200: summary },
      },
    },
    async (request) => reviews.summary(request.params.sku),
  );
}
