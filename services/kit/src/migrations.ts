import type { Pool } from 'pg';

/** One SQL migration. Ids sort in the order they apply, e.g. `001_products`. */
export interface Migration {
  /** Unique, sortable id; never rename one that has shipped. */
  readonly id: string;
  /** SQL run in one transaction; several statements are fine. */
  readonly sql: string;
}

/** Result of {@link migrate}. */
export interface MigrateResult {
  /** Ids of the service's migrations applied by this call, in order (the kit's own are not listed). */
  readonly applied: readonly string[];
}

/**
 * The kit's own migrations, applied after the service's and recorded under `kit:` ids. Earlier kits
 * created `kit_idempotency` in every service database and nothing used it (participants keep their
 * own row as the idempotency record, see docs/saga.md); payment's migration 002 copies what it once
 * held into its payments rows, so the kit drops it after the service's migrations.
 */
const KIT_MIGRATIONS: readonly Migration[] = [
  { id: 'kit:001_drop_kit_idempotency', sql: 'DROP TABLE IF EXISTS kit_idempotency' },
];

/** Lock id shared by every kit service; each service has its own database, so it never contends across services. */
const MIGRATION_LOCK = 0x61696f; // 'aio'

/**
 * Applies the migrations not yet recorded in `kit_migrations`, in id order, each in its own transaction.
 *
 * Then it applies the kit's own migrations (ids `kit:...`), such as dropping the `kit_idempotency`
 * table earlier kits created.
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
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM kit_migrations')).rows.map((r) => r.id),
    );
    for (const m of [...migrations, ...KIT_MIGRATIONS]) {
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
      if (!m.id.startsWith('kit:')) applied.push(m.id);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return { applied };
}
