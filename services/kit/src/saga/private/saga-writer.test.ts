import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/index.js';
import { SAGA_SCHEMA_SQL, type SagaRecord } from '../saga-schema.js';
import { ensureSagaSchema, insertSaga, loadSaga, saveSaga } from './saga-store.js';
import { SagaWriter } from './saga-writer.js';

let db: TestDatabase;
let pool: pg.Pool;
/** Statements sent through `counted`. */
let statements = 0;
let counted: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('saga_writer');
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined);
  await ensureSagaSchema(pool);
  counted = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: Parameters<pg.Pool['query']>) => {
          statements++;
          return (target.query as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** saga_instance as versions before the HOT change created it. */
const EARLIER_SCHEMA = `
CREATE TABLE saga_instance (
  id uuid PRIMARY KEY, saga_type text NOT NULL, version integer NOT NULL, state text NOT NULL,
  input jsonb NOT NULL, steps jsonb NOT NULL DEFAULT '{}'::jsonb, failure jsonb,
  trace_context jsonb NOT NULL DEFAULT '{}'::jsonb, deadline_at timestamptz NOT NULL,
  next_run_at timestamptz NOT NULL DEFAULT now(), lease_owner uuid, lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz);
CREATE INDEX saga_instance_open ON saga_instance (updated_at)
  WHERE state IN ('RUNNING', 'COMPENSATING', 'FAILED_NEEDS_OPERATOR');`;

async function newSaga(owner: string): Promise<SagaRecord> {
  const record = await insertSaga(
    pool,
    { id: randomUUID(), type: 't', version: 1, input: {}, steps: {}, deadlineMs: 60_000, traceContext: {} },
    owner,
    60_000,
  );
  return record!;
}

describe('SagaWriter', () => {
  test('saves asked for while a write is in flight share one statement, each fenced by its own lease', async () => {
    const owner = randomUUID();
    const sagas = await Promise.all(Array.from({ length: 30 }, () => newSaga(owner)));
    const stolen = sagas[7]!; // another worker took this one over
    await pool.query('UPDATE saga_instance SET lease_owner = $2 WHERE id = $1', [stolen.id, randomUUID()]);
    const writer = new SagaWriter(counted);
    statements = 0;
    const results = await Promise.all(
      sagas.map((s, i) => {
        s.steps = { reserve: { status: 'SUCCEEDED', attempts: 1, compensationAttempts: 0, result: { i } } };
        return writer.save(s, owner, 5000);
      }),
    );
    expect(results).toEqual(sagas.map((s) => s.id !== stolen.id));
    // the first save alone, the 29 that queued behind it in one statement
    expect(statements).toBe(2);
    for (const [i, s] of sagas.entries()) {
      const stored = await loadSaga(pool, s.id);
      expect(stored!.steps.reserve?.result).toEqual(s.id === stolen.id ? undefined : { i });
    }
  });

  test('saves the state as it was when the save was asked for, not as it is when the batch goes out', async () => {
    const owner = randomUUID();
    const [a, b] = [await newSaga(owner), await newSaga(owner)];
    const writer = new SagaWriter(pool);
    a.state = 'COMPENSATING';
    const first = writer.save(a, owner, 5000);
    b.state = 'COMPENSATING';
    const second = writer.save(b, owner, 5000); // queued behind the first
    b.state = 'RUNNING'; // changed after asking: must not leak into the queued save
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect((await loadSaga(pool, b.id))!.state).toBe('COMPENSATING');
  });

  test('a row the database refuses fails alone; the rest of its batch is saved', async () => {
    const owner = randomUUID();
    const sagas = await Promise.all(Array.from({ length: 5 }, () => newSaga(owner)));
    const writer = new SagaWriter(pool);
    const settled = await Promise.allSettled(
      sagas.map((s, i) => {
        s.state = 'COMPENSATING';
        // an infinite lease is out of interval range: Postgres rejects the row
        return writer.save(s, owner, i === 3 ? Number.POSITIVE_INFINITY : 5000);
      }),
    );
    expect(settled.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const [i, s] of sagas.entries()) {
      expect((await loadSaga(pool, s.id))!.state).toBe(i === 3 ? 'RUNNING' : 'COMPENSATING');
    }
  });

  test.each([
    ['a new table', ''],
    ['a table of an earlier version (index on updated_at, no fillfactor)', EARLIER_SCHEMA],
  ])('boundary saves are HOT updates: %s', async (_, before) => {
    // a database and one connection of its own, so no other backend's counts mix in
    const own = await createTestDatabase('saga_hot');
    const client = new pg.Client({ connectionString: own.url });
    await client.connect();
    try {
      if (before) await client.query(before);
      await client.query(SAGA_SCHEMA_SQL);
      await client.query(SAGA_SCHEMA_SQL); // every start runs it
      const owner = randomUUID();
      const saga = (await insertSaga(
        client,
        {
          id: randomUUID(),
          type: 't',
          version: 1,
          input: {},
          steps: {},
          deadlineMs: 60_000,
          traceContext: {},
        },
        owner,
        60_000,
      ))!;
      // separate transactions, as the engine's saves are (now() moves between them)
      for (const status of ['STARTED', 'SUCCEEDED', 'COMPENSATING'] as const) {
        saga.steps = { reserve: { status, attempts: 1, compensationAttempts: 0 } };
        expect(await saveSaga(client, saga, owner, 5000)).toBe(true);
      }
      await client.query('SELECT pg_stat_force_next_flush()'); // reported when this statement ends
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ upd: string; hot: string }>(
        "SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'saga_instance'",
      );
      expect({ updates: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) }).toEqual({ updates: 3, hot: 3 });
    } finally {
      await client.end();
      await own.drop();
    }
  });
});
