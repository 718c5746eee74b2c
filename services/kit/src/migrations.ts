import type { Pool } from 'pg';
import { IDEMPOTENCY_TABLE_SQL } from './idempotency.js';

/** One SQL migration. Ids sort in the order they apply, e.g. `001_products`. */
export interface Migration {
  /** Unique, sortable id; never rename one that has shipped. */
  readonly id: string;
  /** SQL run in one transaction; several statements are fine. */
  readonly sql: string;
}

/** Result of {@link migrate}. */
export interface MigrateResult {
  /** Ids applied by this call, in order. */
  readonly applied: readonly string[];
}

/** Lock id shared by every kit service; each service has its own database, so it never contends across services. */
const MIGRATION_LOCK = 0x61696f; // 'aio'

/**
 * Applies the migrations not yet recorded in `kit_migrations`, in id order, each in its own transaction.
 *
 * It also creates `kit_idempotency`, the table behind {@link withIdempotency}.
 *
 * A session-level advisory lock is held for the whole run, so replicas starting together apply each
 * migration once: the others wait, then find nothing left to do.
 *
 * @throws Error when ids are duplicated or not sorted, or when a migration fails (naming its id)
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
export async function migrate(pool: Pool, migrations: readonly Migration[]): Promise<MigrateResult> {
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1]!.id;
    const id = migrations[i]!.id;
    if (id <= prev)
      throw new Error(
        `migrations: ids must be unique and sorted, got ${JSON.stringify(id)} after ${JSON.stringify(prev)}`,
      );
  }
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS kit_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    // The idempotency helper's table is part of every kit service's schema.
    await client.query(IDEMPOTENCY_TABLE_SQL);
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM kit_migrations')).rows.map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO kit_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.id} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(m.id);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return { applied };
}
