import type * as PgModule from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { requireCjs } from './private/require.js';

export type { Pool, PoolClient } from 'pg';

/** Options for {@link createPool}. */
export interface PoolProps {
  /** Maximum connections. @default 10 */
  readonly max?: number;
  /** Fail a connection attempt, or a wait for a free pooled client, after this long. @default 10000 */
  readonly connectionTimeoutMillis?: number;
  /** Per-statement timeout, set on every connection. @default 15000 */
  readonly statementTimeoutMillis?: number;
  /** Application name shown in pg_stat_activity. @default - none */
  readonly applicationName?: string;
}

/**
 * Creates a pg Pool for the service's own database.
 *
 * pg is loaded with `require` at call time, after tracing started, so its queries become spans.
 *
 * @see https://node-postgres.com/apis/pool
 */
export function createPool(connectionString: string, props: PoolProps = {}): Pool {
  const pg = requireCjs('pg') as typeof PgModule;
  const config: PoolConfig = {
    connectionString,
    max: props.max ?? 10,
    connectionTimeoutMillis: props.connectionTimeoutMillis ?? 10_000,
    statement_timeout: props.statementTimeoutMillis ?? 15_000,
    ...(props.applicationName ? { application_name: props.applicationName } : {}),
  };
  const pool = new pg.Pool(config);
  // An idle client that loses its connection emits 'error' on the pool; without a listener it crashes the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws.
 *
 * @param isolation - e.g. `'SERIALIZABLE'`; @default - the server default (READ COMMITTED)
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  isolation?: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(isolation ? `BEGIN ISOLATION LEVEL ${isolation}` : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
