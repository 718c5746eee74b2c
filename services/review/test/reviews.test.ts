import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { callJson, createTestDatabase } from '@aio/kit/testing';
import type { JsonResponse, TestDatabase } from '@aio/kit/testing';
import { reviewConfigSchema } from '../src/config.js';
import type { ReviewConfig } from '../src/config.js';
import { startReview } from '../src/service.js';

interface Body {
  readonly reviewId?: string;
  readonly rating?: number;
  readonly count?: number;
  readonly average?: number | null;
  readonly histogram?: Record<string, number>;
  readonly reviews?: { reviewId: string; customerId: string }[];
  readonly detail?: string;
  readonly 'invalid-params'?: { name: string; reason: string }[];
}

let db: TestDatabase;
let service: RunningService<ReviewConfig>;

beforeAll(async () => {
  db = await createTestDatabase('review');
  const config = parseConfig(reviewConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  service = await startReview(config, false);
});

afterAll(async () => {
  await service?.close();
  await db?.drop();
});

const call = (method: string, path: string, body?: unknown): Promise<JsonResponse<Body>> =>
  callJson<Body>(service.url, method, path, body);

const review = (sku: string, customerId: string, rating: number, title = 'solid') => ({
  sku,
  customerId,
  rating,
  title,
  body: 'works as described',
});

describe('POST /reviews', () => {
  test('writes a review and folds it into the SKU summary', async () => {
    const created = await call('POST', '/reviews', review('SKU-A', 'c-1', 4));
    expect(created.status).toBe(201);
    expect(created.body.reviewId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('GET', `/reviews/${created.body.reviewId}`)).body).toMatchObject({ rating: 4 });
    await call('POST', '/reviews', review('SKU-A', 'c-2', 1));
    expect((await call('GET', '/ratings/SKU-A')).body).toEqual({
      sku: 'SKU-A',
      count: 2,
      average: 2.5,
      histogram: { '1': 1, '2': 0, '3': 0, '4': 1, '5': 0 },
    });
    const listed = await call('GET', '/reviews?sku=SKU-A');
    expect(listed.body.reviews?.map((r) => r.customerId)).toEqual(['c-2', 'c-1']);
  });

  test('40 concurrent writes, 10 of them resent: 30 reviews and a summary that adds up', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => review('SKU-C', `c-${i}`, (i % 5) + 1));
    const answers = await Promise.all(
      [...requests, ...requests.slice(0, 10)].map((r) => call('POST', '/reviews', r)),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(30);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    // a replay answers the first review, never a second one
    expect(new Set(answers.map((a) => a.body.reviewId)).size).toBe(30);
    const { rows } = await service.pool.query<{ n: number; s: number }>(
      "SELECT count(*)::int AS n, sum(rating)::int AS s FROM reviews WHERE sku = 'SKU-C'",
    );
    const summary = (await call('GET', '/ratings/SKU-C')).body;
    expect(summary.count).toBe(rows[0]!.n);
    expect(summary.average).toBe(Math.round((rows[0]!.s / rows[0]!.n) * 100) / 100);
    expect(Object.values(summary.histogram ?? {})).toEqual([6, 6, 6, 6, 6]);
  });

  test('refuses a second, different review of one SKU by one customer with 409', async () => {
    await call('POST', '/reviews', review('SKU-D', 'c-1', 5));
    const again = await call('POST', '/reviews', review('SKU-D', 'c-1', 2, 'changed my mind'));
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/^customer c-1 already reviewed SKU-D \(review [0-9a-f-]{36}\)$/);
    expect((await call('GET', '/ratings/SKU-D')).body.count).toBe(1);
  });

  test.each([
    [{ ...review('SKU-E', 'c-1', 6) }, 'rating'],
    [{ ...review('SKU-E', 'c-1', 4.5) }, 'rating'],
    [{ ...review('SKU-E', 'c-1', 4), rating: '4' }, 'rating'],
    [{ ...review('SKU-E', 'c-1', 4), title: 'nul\u0000' }, 'title'],
    [{ ...review('SKU-E', 'c-1', 4), title: '' }, 'title'],
    [{ ...review('SKU E', 'c-1', 4) }, 'sku'],
    [{ ...review('SKU-E', 'c-1', 4), helpful: true }, 'helpful'],
  ])('rejects %j with a 400 naming %s', async (body, field) => {
    const answer = await call('POST', '/reviews', body);
    expect(answer.status).toBe(400);
    expect(answer.body['invalid-params']?.map((p) => p.name)).toContain(field);
  });
});

describe('GET /ratings/:sku and /reviews/:id', () => {
  test('a SKU nobody reviewed has an empty summary, an unknown review is a 404 problem', async () => {
    expect((await call('GET', '/ratings/SKU-NONE')).body).toEqual({
      sku: 'SKU-NONE',
      count: 0,
      average: null,
      histogram: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 },
    });
    const missing = await call('GET', '/reviews/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.type).toContain('application/problem+json');
    expect((await call('GET', '/reviews/not-a-uuid')).status).toBe(400);
  });

  test('the contract marks the reviews API public and the summary internal', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.paths['/reviews']?.post?.['x-aio-public']).toBe(true);
    expect(doc.paths['/reviews/{reviewId}']?.get?.['x-aio-own-ids']).toBeDefined();
    expect(doc.paths['/ratings/{sku}']?.get?.['x-aio-public']).toBeUndefined();
  });
});
