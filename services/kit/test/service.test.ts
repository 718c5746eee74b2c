import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ConfigError,
  createPool,
  migrate,
  parseConfig,
  participantCall,
  runService,
  serviceConfigSchema,
  StepFailure,
  z,
} from '../src/index.js';
import type { Pool, RunningService } from '../src/index.js';
import { createTestDatabase } from '../src/testing/index.js';
import type { TestDatabase } from '../src/testing/index.js';

let db: TestDatabase;
let service: RunningService;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase('kit');
  const config = parseConfig(serviceConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  service = await runService({
    name: 'kit-test',
    config,
    processHooks: false,
    migrations: [
      { id: '001_items', sql: 'CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL DEFAULT 0)' },
    ],
    routes: ({ app }) => {
      app.post(
        '/items',
        {
          schema: {
            body: {
              type: 'object',
              required: ['id', 'lines'],
              properties: {
                id: { type: 'string', minLength: 1 },
                lines: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['qty'],
                    properties: { qty: { type: 'integer', minimum: 1 } },
                  },
                },
              },
            },
          },
        },
        async (_req, reply) => reply.code(201).send({ ok: true }),
      );
      app.post('/echo-headers', async (req) => req.headers);
      app.post('/out-of-stock', async (_req, reply) =>
        reply.code(409).send({ status: 'REJECTED', reason: 'INSUFFICIENT_STOCK' }),
      );
      app.post('/unavailable', async (_req, reply) => reply.code(503).send({}));
      app.get('/slow', async () => {
        await new Promise((r) => setTimeout(r, 300));
        return { done: true };
      });
    },
  });
  pool = createPool(db.url, { max: 12 });
});

afterAll(async () => {
  await pool?.end();
  await service?.close();
  await db?.drop();
});

describe('runService', () => {
  test('serves liveness and readiness with the db check', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: 'ok' } });
  });

  test('runs a service without a database: no pool, no db check, and closes cleanly', async () => {
    const noDbSchema = serviceConfigSchema.omit({ DATABASE_URL: true });
    const config = parseConfig(noDbSchema, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    const bare = await runService({
      name: 'kit-test-no-db',
      config,
      processHooks: false,
      routes: ({ app, pool: none }) => {
        app.get('/pool', async () => ({ pool: none === undefined ? 'none' : 'open' }));
      },
    });
    try {
      expect(bare.pool).toBeUndefined();
      expect(await (await fetch(`${bare.url}/pool`)).json()).toEqual({ pool: 'none' });
      const ready = await fetch(`${bare.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: {} });
    } finally {
      await bare.close();
    }
    await expect(fetch(`${bare.url}/healthz`)).rejects.toThrow();
  });

  test('refuses migrations when the config has no DATABASE_URL, saying what to do', async () => {
    const config = parseConfig(serviceConfigSchema.omit({ DATABASE_URL: true }), {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    await expect(
      runService({
        name: 'kit-test-no-db',
        config,
        processHooks: false,
        migrations: [{ id: '001', sql: 'SELECT 1' }],
        routes: () => undefined,
      }),
    ).rejects.toThrow(/kit-test-no-db has migrations but its config has no DATABASE_URL: add DATABASE_URL/);
  });

  test('rejects a missing field with a problem+json 400 naming it', async () => {
    const res = await fetch(`${service.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lines: [] }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { detail: string; 'invalid-params': { name: string }[] };
    expect(body['invalid-params'][0]!.name).toBe('id');
    expect(body.detail).toContain('id: is required');
  });

  test('names a nested field by its path', async () => {
    const res = await fetch(`${service.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'a', lines: [{ qty: 1 }, { qty: 0 }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { 'invalid-params': { name: string }[] };
    expect(body['invalid-params'][0]!.name).toBe('lines[1].qty');
  });

  test('rejects malformed JSON with a problem+json 400', async () => {
    const res = await fetch(`${service.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('migrate', () => {
  test('applies each migration once when replicas start together', async () => {
    const migrations = [
      { id: '001_items', sql: 'CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL DEFAULT 0)' },
      { id: '002_seed', sql: "INSERT INTO items (id) VALUES ('seed')" },
    ];
    const results = await Promise.all([
      migrate(pool, migrations),
      migrate(pool, migrations),
      migrate(pool, migrations),
    ]);
    expect(results.flatMap((r) => r.applied)).toEqual(['002_seed']);
    expect((await pool.query("SELECT count(*)::int AS n FROM items WHERE id = 'seed'")).rows[0].n).toBe(1);
  });

  test('drops the unused kit_idempotency table of databases made by an earlier kit, once', async () => {
    await pool.query(
      'CREATE TABLE IF NOT EXISTS kit_idempotency (scope text, key text, fingerprint text, PRIMARY KEY (scope, key))',
    );
    await pool.query("DELETE FROM kit_migrations WHERE id = 'kit:001_drop_kit_idempotency'");
    await migrate(pool, []);
    const { rows } = await pool.query("SELECT to_regclass('kit_idempotency') AS t");
    expect(rows[0].t).toBeNull();
    const done = await pool.query("SELECT 1 FROM kit_migrations WHERE id = 'kit:001_drop_kit_idempotency'");
    expect(done.rowCount).toBe(1);
  });

  test('throws when ids are not sorted', async () => {
    await expect(
      migrate(pool, [
        { id: '002', sql: '' },
        { id: '001', sql: '' },
      ]),
    ).rejects.toThrow(/must be unique and sorted/);
  });
});

describe('parseConfig', () => {
  test('throws naming every missing or invalid variable without echoing secrets', () => {
    const schema = serviceConfigSchema.extend({ REDIS_URL: z.string().url() });
    let error: unknown;
    try {
      parseConfig(schema, { PORT: 'abc', DATABASE_URL: 'mysql://secret@x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.name).sort()).toEqual(['DATABASE_URL', 'PORT', 'REDIS_URL']);
    expect(issues.find((i) => i.name === 'REDIS_URL')!.message).toBe('is required');
    expect(issues.find((i) => i.name === 'PORT')!.message).toContain('"abc"');
    expect((error as Error).message).not.toContain('secret');
  });

  test('bounds the Postgres pool from DB_POOL_MAX, 10 by default, and rejects 0', () => {
    const url = 'postgres://app@localhost:5432/app';
    expect(parseConfig(serviceConfigSchema, { DATABASE_URL: url }).DB_POOL_MAX).toBe(10);
    expect(parseConfig(serviceConfigSchema, { DATABASE_URL: url, DB_POOL_MAX: '4' }).DB_POOL_MAX).toBe(4);
    expect(() => parseConfig(serviceConfigSchema, { DATABASE_URL: url, DB_POOL_MAX: '0' })).toThrow(
      /DB_POOL_MAX/,
    );
  });
});

describe('participantCall', () => {
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as StepFailure);

  test('throws a TIMEOUT step failure (maybe done) when the participant is slow', async () => {
    const error = await failureOf(
      participantCall({ url: `${service.url}/slow`, method: 'GET', timeoutMs: 50 }),
    );
    expect(error).toBeInstanceOf(StepFailure);
    expect(error).toMatchObject({ kind: 'TIMEOUT' });
  });

  test('names the field of a problem+json 400 in the rejection reason, not an opaque HTTP_400', async () => {
    const error = await failureOf(
      participantCall({
        url: `${service.url}/items`,
        body: { id: 'a', lines: [{ qty: 0 }] },
        participant: 'items',
      }),
    );
    expect(error).toMatchObject({ kind: 'REJECTED', status: 400 });
    expect(error?.reason).toMatch(/^items answered 400: lines\[0\]\.qty: must be >= 1/);
  });

  test('keeps a participant reason code as it is, and sends no Idempotency-Key', async () => {
    const reply = await participantCall({ url: `${service.url}/echo-headers` });
    expect(reply.status).toBe(200);
    expect(reply.body['idempotency-key']).toBeUndefined();
    const error = await failureOf(participantCall({ url: `${service.url}/out-of-stock` }));
    expect(error).toMatchObject({ kind: 'REJECTED', status: 409, reason: 'INSUFFICIENT_STOCK' });
  });

  test('classifies 503 as retryable', async () => {
    const error = await failureOf(participantCall({ url: `${service.url}/unavailable` }));
    expect(error).toMatchObject({ kind: 'RETRYABLE', status: 503 });
  });
});
