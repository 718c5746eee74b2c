import type * as PgModule from 'pg';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { requireCjs } from '../private/require.js';

/** A throwaway database made by {@link createTestDatabase}. */
export interface TestDatabase {
  /** e.g. `aio_test_inventory_3f9a1c` */
  readonly name: string;
  /** Connection string for DATABASE_URL. */
  readonly url: string;
  /** Drops the database, disconnecting any client still connected. */
  drop(): Promise<void>;
}

/** Admin connection used to create and drop test databases. @default postgres://postgres@127.0.0.1:5432/postgres */
export const TEST_ADMIN_URL = process.env.AIO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Redis used by tests. @default redis://127.0.0.1:6379 */
export const TEST_REDIS_URL = process.env.AIO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random suffix for database names and key prefixes. */
export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Creates an empty database `aio_test_<label>_<random>` for one test run (with `synchronous_commit = off`).
 *
 * @see https://www.postgresql.org/docs/current/sql-dropdatabase.html
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `aio_test_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomSuffix()}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  // A throwaway database needs no fsync per commit; it keeps suites fast on the shared CI machine.
  await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  const admin = new URL(TEST_ADMIN_URL);
  admin.pathname = `/${name}`;
  return {
    name,
    url: admin.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const { Client } = requireCjs('pg') as typeof PgModule;
  const client = new Client({ connectionString: TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A key prefix `test:<label>:<random>:` for one test run. */
export function testRedisPrefix(label: string): string {
  return `test:${label}:${randomSuffix()}:`;
}

/**
 * Deletes every key starting with `prefix` (SCAN + UNLINK), never the whole database.
 *
 * @returns the number of keys deleted
 */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
/** A JSON response as tests read it. */
export interface JsonResponse<B> {
  readonly status: number;
  readonly body: B;
  /** The content-type header, e.g. `application/problem+json`. */
  readonly type: string;
}

/**
 * Sends `body` as JSON to `baseUrl + path` and parses the JSON answer, for contract tests.
 *
 * No timeout or retry: a hung service should fail the test's own timeout.
 */
export async function callJson<B = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<B>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as B, type: res.headers.get('content-type') ?? '' };
}

export * from './dockerfile-lint.js';
export * from './processes.js';
export * from './redis-server.js';
export * from './feed.js';
export * from './dev-issuer.js';
export * from './spoofed-identity.js';
export * from './issuer-tokens.js';
export * from './issuer-keys.js';
