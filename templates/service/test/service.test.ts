import { parseConfig } from '@aio/kit';
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
{{#if postgres}}
let db: TestDatabase;
{{/if}}
{{#if redis}}
const cachePrefix = testRedisPrefix('{{name}}');
const redisUrl = process.env.REDIS_URL ?? TEST_REDIS_URL;
{{/if}}

beforeAll(async () => {
{{#if postgres}}
  db = await createTestDatabase('{{databaseName}}');
{{/if}}
  const config = parseConfig(configSchema, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
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

{{#if postgres}}
  test('stores and lists items at {{exampleRoute}}', async () => {
    const created = await fetch(`${service.url}{{exampleRoute}}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'first' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const list = (await (await fetch(`${service.url}{{exampleRoute}}`)).json()) as { items: { id: string }[] };
    expect(list.items.map((i) => i.id)).toContain(id);
  });

  test('rejects an invalid body with a problem document', async () => {
    const res = await fetch(`${service.url}{{exampleRoute}}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
{{/if}}
{{#unless postgres}}
  test('answers at {{exampleRoute}}', async () => {
    const res = await fetch(`${service.url}{{exampleRoute}}`);
    expect(res.status).toBe(200);
{{#if redis}}
    const first = (await res.json()) as { hits: number };
    const second = (await (await fetch(`${service.url}{{exampleRoute}}`)).json()) as { hits: number };
    expect(second.hits).toBe(first.hits + 1);
{{/if}}
{{#unless redis}}
    expect(await res.json()).toEqual({ service: '{{name}}', message: 'hello from {{name}}' });
{{/unless}}
  });
{{/unless}}

  test('answers an unknown path with a 404 problem document', async () => {
    const res = await fetch(`${service.url}/no-such-path`);
    expect(res.status).toBe(404);
  });
});
