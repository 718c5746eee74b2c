import { parseConfig } from '@aio/kit';
import { DEV_TOKEN_AUDIENCE, DevTokenIssuer, IssuerTokens } from '@aio/kit/testing';
{{#if postgres}}
import { createTestDatabase, type TestDatabase } from '@aio/kit/testing';
{{/if}}
{{#if redis}}
import { createRedis } from '@aio/kit';
import { deleteRedisKeys, testRedisPrefix, TEST_REDIS_URL } from '@aio/kit/testing';
{{/if}}
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configSchema } from '../src/config.js';
import { startService } from '../src/service.js';

let service: Awaited<ReturnType<typeof startService>>;
// a real token issuer on a free port: the service verifies its tokens as it will the platform's
let issuer: DevTokenIssuer;
let tokens: IssuerTokens;
{{#if postgres}}
let db: TestDatabase;
{{/if}}
{{#if redis}}
const cachePrefix = testRedisPrefix('{{name}}');
const redisUrl = process.env.REDIS_URL ?? TEST_REDIS_URL;
{{/if}}

beforeAll(async () => {
  issuer = await DevTokenIssuer.start();
  tokens = new IssuerTokens(issuer.url);
{{#if postgres}}
  db = await createTestDatabase('{{databaseName}}');
{{/if}}
  const config = parseConfig(configSchema, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUTH_ISSUER: issuer.url,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
{{#if postgres}}
    DATABASE_URL: db.url,
{{/if}}
{{#if redis}}
    REDIS_URL: redisUrl,
    CACHE_PREFIX: cachePrefix,
{{/if}}
  });
  service = await startService(config, { processHooks: false });
});

afterAll(async () => {
  await service?.close();
  await issuer?.close();
{{#if postgres}}
  await db?.drop();
{{/if}}
{{#if redis}}
  const redis = createRedis(redisUrl);
  await deleteRedisKeys(redis, cachePrefix);
  await redis.quit();
{{/if}}
});

describe('{{name}}', () => {
  test('answers the liveness probe', async () => {
    const res = await fetch(`${service.url}/healthz`);
    expect(res.status).toBe(200);
  });

  test('is ready when its dependencies answer', async () => {
    const res = await fetch(`${service.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready' });
  });

  test('refuses {{exampleRoute}} without a valid customer token: 401 problem+json', async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const refused = {
      none: {},
      expired: bearer(await tokens.expired('alice')),
      wrongSignature: bearer(await tokens.wrongSignature('alice')),
      wrongAudience: bearer(await tokens.wrongAudience('alice')),
    };
    for (const [why, headers] of Object.entries(refused)) {
      const res = await fetch(`${service.url}{{exampleRoute}}`, { headers });
      expect({ why, status: res.status, type: res.headers.get('content-type') }).toEqual({
        why,
        status: 401,
        type: expect.stringContaining('application/problem+json'),
      });
    }
  });

{{#if postgres}}
  test("stores and lists a customer's own items at {{exampleRoute}}", async () => {
    const created = await fetch(`${service.url}{{exampleRoute}}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await tokens.headers('alice')) },
      body: JSON.stringify({ name: 'first' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const list = async (customer: string) =>
      ((await (await fetch(`${service.url}{{exampleRoute}}`, { headers: await tokens.headers(customer) })).json()) as {
        items: { id: string }[];
      }).items.map((i) => i.id);
    expect(await list('alice')).toContain(id);
    expect(await list('bob')).not.toContain(id);
  });

  test('rejects an invalid body with a problem document', async () => {
    const res = await fetch(`${service.url}{{exampleRoute}}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await tokens.headers('alice')) },
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
{{/if}}
{{#unless postgres}}
  test('answers a customer at {{exampleRoute}}', async () => {
    const res = await fetch(`${service.url}{{exampleRoute}}`, { headers: await tokens.headers('alice') });
    expect(res.status).toBe(200);
{{#if redis}}
    const first = (await res.json()) as { customer: string; hits: number };
    const again = await fetch(`${service.url}{{exampleRoute}}`, { headers: await tokens.headers('alice') });
    const second = (await again.json()) as { customer: string; hits: number };
    expect(first.customer).toBe('alice');
    expect(second.hits).toBe(first.hits + 1);
{{/if}}
{{#unless redis}}
    expect(await res.json()).toEqual({ service: '{{name}}', message: 'hello from {{name}}', customer: 'alice' });
{{/unless}}
  });
{{/unless}}

  test('answers an unknown path with a 404 problem document', async () => {
    const res = await fetch(`${service.url}/no-such-path`);
    expect(res.status).toBe(404);
  });
});
