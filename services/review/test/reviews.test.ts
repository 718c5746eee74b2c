import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import {
  callJson,
  createTestDatabase,
  DEV_TOKEN_AUDIENCE,
  DevTokenIssuer,
  IssuerTokens,
} from '@aio/kit/testing';
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
let issuer: DevTokenIssuer;
let tokens: IssuerTokens;

beforeAll(async () => {
  db = await createTestDatabase('review');
  issuer = await DevTokenIssuer.start();
  tokens = new IssuerTokens(issuer.url);
  const config = parseConfig(reviewConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUTH_ISSUER: issuer.url,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
  });
  service = await startReview(config, false);
});

afterAll(async () => {
  await service?.close();
  await issuer?.close();
  await db?.drop();
});

/** A request signed in as the body's customerId (c-1 when it has none usable), or as `as`. */
const call = async (
  method: string,
  path: string,
  body?: unknown,
  as?: string,
): Promise<JsonResponse<Body>> => {
  const claimed = (body as { customerId?: unknown } | undefined)?.customerId;
  const customer = as ?? (typeof claimed === 'string' && /^[!-~]{1,128}$/.test(claimed) ? claimed : 'c-1');
  return callJson<Body>(service.url, method, path, body, await tokens.headers(customer));
};

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

  test('the author is the token’s customer: none is 401, another body customerId 403, headers change nothing', async () => {
    const { customerId: _c, ...anonymous } = review('SKU-AUTH', 'c-1', 3);
    const none = await callJson<Body>(service.url, 'POST', '/reviews', anonymous, { 'x-customer-id': 'c-9' });
    expect(none.status).toBe(401);
    const forged = await call('POST', '/reviews', { ...anonymous, customerId: 'c-9' }, 'c-1');
    expect(forged.status).toBe(403);
    const written = await call('POST', '/reviews', anonymous, 'c-7');
    expect(written.status).toBe(201);
    const spoofed = await callJson<Body>(
      service.url,
      'POST',
      '/reviews',
      { ...anonymous, rating: 5 },
      {
        ...(await tokens.headers('c-8')),
        'x-customer-id': 'c-7',
        'x-user': 'c-7',
      },
    );
    expect(spoofed.status).toBe(201);
    const listed = await callJson<Body>(service.url, 'GET', '/reviews?sku=SKU-AUTH');
    expect(listed.body.reviews?.map((r) => r.customerId).sort()).toEqual(['c-7', 'c-8']);
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
