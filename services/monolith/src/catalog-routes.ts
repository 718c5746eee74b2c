import { HttpProblem, ownCustomer } from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import type { Pool } from 'pg';
import { LEGACY_ID_PATTERN, legacyId } from './ids.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

interface ReviewRow {
  review_id: string;
  sku: string;
  customer_id: string;
  rating: number;
  body: string;
}
const reviewView = (r: ReviewRow) => ({
  reviewId: r.review_id,
  sku: r.sku,
  customerId: r.customer_id,
  rating: r.rating,
  body: r.body,
});

interface NotificationRow {
  notification_id: string;
  customer_id: string;
  channel: string;
  message: string;
}
const notificationView = (r: NotificationRow) => ({
  notificationId: r.notification_id,
  customerId: r.customer_id,
  channel: r.channel,
  message: r.message,
});

/**
 * The legacy review and notification API: `POST /api/reviews` (the token's customer is the
 * author), the public `GET /api/reviews?sku=` and `GET /api/reviews/:reviewId`, and the same three
 * for `/api/notifications`, each the token's customer's own (another's is a 404).
 */
export function registerCatalogRoutes(app: FastifyInstance, pool: Pool): void {
  app.post<{ Body: { sku: string; customerId?: string; rating: number; body: string } }>(
    '/api/reviews',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['sku', 'rating', 'body'],
          properties: {
            sku: text(64),
            customerId: text(200),
            rating: { type: 'integer', minimum: 1, maximum: 5 },
            body: text(4000),
          },
        },
      },
    },
    async (req, reply) => {
      const customerId = ownCustomer(req, req.body.customerId);
      const { sku, rating, body } = req.body;
      const { rows } = await pool.query<ReviewRow>(
        'INSERT INTO reviews (sku, customer_id, rating, body) VALUES ($1, $2, $3, $4) RETURNING *',
        [sku, customerId, rating, body],
      );
      return reply.code(201).send(reviewView(rows[0]!));
    },
  );
  app.get<{ Querystring: { sku: string } }>(
    '/api/reviews',
    {
      config: { public: true, auth: 'public' },
      schema: { querystring: { type: 'object', required: ['sku'], properties: { sku: text(64) } } },
    },
    async (req) => {
      const { rows } = await pool.query<ReviewRow>(
        'SELECT * FROM reviews WHERE sku = $1 ORDER BY review_id DESC LIMIT 100',
        [req.query.sku],
      );
      return { reviews: rows.map(reviewView) };
    },
  );
  app.get<{ Params: { reviewId: string } }>(
    '/api/reviews/:reviewId',
    { config: { public: true, auth: 'public', ownIds: LEGACY_ID_PATTERN } },
    async (req) => {
      const id = legacyId('review', req.params.reviewId);
      const { rows } = await pool.query<ReviewRow>('SELECT * FROM reviews WHERE review_id = $1', [id]);
      if (!rows[0]) throw new HttpProblem(404, `no review ${id}`);
      return reviewView(rows[0]);
    },
  );

  app.post<{ Body: { customerId?: string; channel: string; message: string } }>(
    '/api/notifications',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['channel', 'message'],
          properties: {
            customerId: text(200),
            channel: { type: 'string', enum: ['email', 'sms', 'push'] },
            message: text(2000),
          },
        },
      },
    },
    async (req, reply) => {
      const customerId = ownCustomer(req, req.body.customerId);
      const { channel, message } = req.body;
      const { rows } = await pool.query<NotificationRow>(
        'INSERT INTO notifications (customer_id, channel, message) VALUES ($1, $2, $3) RETURNING *',
        [customerId, channel, message],
      );
      return reply.code(201).send(notificationView(rows[0]!));
    },
  );
  app.get<{ Querystring: { customerId?: string } }>(
    '/api/notifications',
    {
      config: { public: true },
      schema: {
        querystring: {
          type: 'object',
          properties: { customerId: text(200) },
        },
      },
    },
    async (req) => {
      const { rows } = await pool.query<NotificationRow>(
        'SELECT * FROM notifications WHERE customer_id = $1 ORDER BY notification_id DESC LIMIT 100',
        [ownCustomer(req, req.query.customerId, 'query customerId')],
      );
      return { notifications: rows.map(notificationView) };
    },
  );
  app.get<{ Params: { notificationId: string } }>(
    '/api/notifications/:notificationId',
    { config: { public: true, ownIds: LEGACY_ID_PATTERN } },
    async (req) => {
      const id = legacyId('notification', req.params.notificationId);
      const { rows } = await pool.query<NotificationRow>(
        'SELECT * FROM notifications WHERE notification_id = $1 AND customer_id = $2',
        [id, ownCustomer(req, undefined)],
      );
      if (!rows[0]) throw new HttpProblem(404, `no notification ${id}`);
      return notificationView(rows[0]);
    },
  );
}
