import type { ClientBase, Pool } from 'pg';
import type { SagaFailure } from '../saga-definition.js';
import type { SagaRecord, SagaState, SqlStatement, StepRecord } from '../saga-schema.js';
import { SAGA_SCHEMA_SQL } from '../saga-schema.js';
import { outboxCtes } from '../../outbox/outbox-event.js';

// The saga table's queries. Internal to the kit: services reach them through SagaEngine, its handles
// and registerSagaRoutes, never directly.

/** Creates the saga tables if they are missing, under an advisory lock so replicas do not race. */
export async function ensureSagaSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7262001)');
    await client.query(SAGA_SCHEMA_SQL);
  } finally {
    await client.query('SELECT pg_advisory_unlock(7262001)').catch(() => undefined);
    client.release();
  }
}

const COLUMNS = `id, saga_type, version, state, input, steps, failure, trace_context, deadline_at,
  created_at, updated_at, finished_at`;

interface SagaRow {
  id: string;
  saga_type: string;
  version: number;
  state: SagaState;
  input: unknown;
  steps: Record<string, StepRecord>;
  failure: SagaFailure | null;
  trace_context: Record<string, string>;
  deadline_at: Date;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function toRecord(r: SagaRow): SagaRecord {
  return {
    id: r.id,
    type: r.saga_type,
    version: r.version,
    state: r.state,
    input: r.input,
    steps: r.steps,
    failure: r.failure,
    traceContext: r.trace_context,
    deadlineAt: r.deadline_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/**
 * Inserts a new saga, already leased by `leaseOwner`. With `business`, the business row and the saga
 * are inserted by ONE statement (`WITH business AS (...) INSERT ... SELECT FROM business`), atomic
 * without a transaction round trip; when the business statement returns no row (e.g. `ON CONFLICT DO
 * NOTHING`), no saga is inserted and undefined is returned.
 */
export async function insertSaga(
  db: Pool | ClientBase,
  saga: {
    id: string;
    type: string;
    version: number;
    input: unknown;
    steps: Record<string, StepRecord>;
    deadlineMs: number;
    traceContext: object;
  },
  leaseOwner: string,
  leaseMs: number,
  business?: SqlStatement,
): Promise<SagaRecord | undefined> {
  const n = business?.params.length ?? 0;
  const p = (i: number) => `$${n + i}`;
  const values = `${p(1)}, ${p(2)}, ${p(3)}, 'RUNNING', ${p(4)}, ${p(5)}, now() + ${p(6)} * interval '1 millisecond',
     ${p(7)}, now() + ${p(8)} * interval '1 millisecond', ${p(9)}`;
  const insert = `INSERT INTO saga_instance (id, saga_type, version, state, input, trace_context, deadline_at, lease_owner, lease_until, steps)`;
  // the business statement's events ride in the same statement, recorded only when it wrote its row
  const outbox = business?.events?.length
    ? outboxCtes(business.events, n + 10, 'EXISTS (SELECT 1 FROM business)')
    : undefined;
  const sql = business
    ? `WITH business AS (${business.sql})${outbox ? `, ${outbox.sql}` : ''} ${insert} SELECT ${values} FROM business RETURNING ${COLUMNS}`
    : `${insert} VALUES (${values}) RETURNING ${COLUMNS}`;
  const { rows } = await db.query<SagaRow>(sql, [
    ...(business?.params ?? []),
    saga.id,
    saga.type,
    saga.version,
    JSON.stringify(saga.input),
    JSON.stringify(saga.traceContext),
    saga.deadlineMs,
    leaseOwner,
    leaseMs,
    JSON.stringify(saga.steps),
    ...(outbox?.params ?? []),
  ]);
  return rows[0] && toRecord(rows[0]);
}

/**
 * Claims up to `limit` runnable sagas whose lease is free or expired, with `FOR UPDATE SKIP LOCKED`
 * so that replicas never claim the same saga. Only (type, version) pairs this worker knows are claimed.
 */
export async function claimSagas(
  pool: Pool,
  kinds: readonly string[],
  leaseOwner: string,
  leaseMs: number,
  limit: number,
): Promise<SagaRecord[]> {
  const { rows } = await pool.query<SagaRow>(
    `WITH candidate AS (
       SELECT id FROM saga_instance
        WHERE state IN ('RUNNING', 'COMPENSATING')
          AND next_run_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
          AND (saga_type || '@' || version) = ANY($1::text[])
        ORDER BY next_run_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
     UPDATE saga_instance s
        SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond'
       FROM candidate WHERE s.id = candidate.id
     RETURNING ${COLUMNS.split(',')
       .map((c) => `s.${c.trim()}`)
       .join(', ')}`,
    [kinds, leaseOwner, leaseMs, limit],
  );
  return rows.map(toRecord);
}

/**
 * Writes the saga's state and step log, extending the lease by `leaseMs`. Fenced by the lease:
 * returns false (and writes nothing) when another worker took the saga over.
 */
export async function saveSaga(
  db: Pool | ClientBase,
  saga: SagaRecord,
  leaseOwner: string,
  leaseMs: number,
): Promise<boolean> {
  return saveOne(db, {
    id: saga.id,
    leaseOwner,
    state: saga.state,
    steps: JSON.stringify(saga.steps),
    failure: saga.failure && JSON.stringify(saga.failure),
    leaseMs,
  });
}

/** {@link saveSaga} of an already serialized save. */
export async function saveOne(db: Pool | ClientBase, save: SagaSave): Promise<boolean> {
  const res = await db.query(
    `UPDATE saga_instance
        SET state = $3, steps = $4, failure = $5, updated_at = now(),
            lease_until = now() + $6 * interval '1 millisecond'
      WHERE id = $1 AND lease_owner = $2`,
    [save.id, save.leaseOwner, save.state, save.steps, save.failure, save.leaseMs],
  );
  return res.rowCount === 1;
}

/** One save for {@link saveSagas}: the saga's state serialized when the save was asked for. */
export interface SagaSave {
  readonly id: string;
  readonly leaseOwner: string;
  readonly state: SagaState;
  /** `JSON.stringify(saga.steps)`. */
  readonly steps: string;
  /** `JSON.stringify(saga.failure)`, or null. */
  readonly failure: string | null;
  readonly leaseMs: number;
}

/**
 * Saves several sagas in ONE statement (one round trip, one commit), each fenced by its own lease
 * owner like {@link saveSaga}. Rows are locked in id order, so two batches never deadlock.
 * Returns the ids that were saved; the others had lost their lease.
 */
export async function saveSagas(db: Pool | ClientBase, saves: readonly SagaSave[]): Promise<Set<string>> {
  const sorted = [...saves].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { rows } = await db.query<{ id: string }>(
    `UPDATE saga_instance s
        SET state = u.state, steps = u.steps, failure = u.failure, updated_at = now(),
            lease_until = now() + u.lease_ms * interval '1 millisecond'
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[], $6::float8[])
            AS u(id, owner, state, steps, failure, lease_ms)
      WHERE s.id = u.id AND s.lease_owner = u.owner
  RETURNING s.id`,
    [
      sorted.map((x) => x.id),
      sorted.map((x) => x.leaseOwner),
      sorted.map((x) => x.state),
      sorted.map((x) => x.steps),
      sorted.map((x) => x.failure),
      sorted.map((x) => x.leaseMs),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

/** Gives the saga back for a later run at `delayMs` from now (a long backoff, or a shutdown). */
export async function releaseSaga(
  pool: Pool,
  saga: SagaRecord,
  leaseOwner: string,
  delayMs: number,
): Promise<boolean> {
  const res = await pool.query(
    `UPDATE saga_instance
        SET state = $3, steps = $4, failure = $5, updated_at = now(),
            lease_owner = NULL, lease_until = NULL, next_run_at = now() + $6 * interval '1 millisecond'
      WHERE id = $1 AND lease_owner = $2`,
    [
      saga.id,
      leaseOwner,
      saga.state,
      JSON.stringify(saga.steps),
      saga.failure && JSON.stringify(saga.failure),
      delayMs,
    ],
  );
  return res.rowCount === 1;
}

/**
 * Records a final or operator-waiting state and drops the lease, fenced by the lease owner; with
 * `business`, that statement runs in the same SQL statement (it may read the CTE `saga_finished`).
 */
export async function finishSaga(
  db: Pool | ClientBase,
  saga: SagaRecord,
  leaseOwner: string,
  business?: SqlStatement,
): Promise<boolean> {
  const n = business?.params.length ?? 0;
  const p = (i: number) => `$${n + i}`;
  const update = `UPDATE saga_instance
        SET state = ${p(3)}, steps = ${p(4)}, failure = ${p(5)}, updated_at = now(), lease_owner = NULL, lease_until = NULL,
            finished_at = CASE WHEN ${p(3)} IN ('COMPLETED', 'COMPENSATED') THEN now() END
      WHERE id = ${p(1)} AND lease_owner = ${p(2)}`;
  // the business statement runs in the same statement and sees the CTE saga_finished (empty when fenced off)
  // its events are recorded in that statement too, only when this worker still held the lease
  const outbox = business?.events?.length
    ? outboxCtes(business.events, n + 6, 'EXISTS (SELECT 1 FROM saga_finished)')
    : undefined;
  const sql = business
    ? `WITH saga_finished AS (${update} RETURNING id), business AS (${business.sql})${outbox ? `, ${outbox.sql}` : ''} SELECT id FROM saga_finished`
    : update;
  const res = await db.query(sql, [
    ...(business?.params ?? []),
    saga.id,
    leaseOwner,
    saga.state,
    JSON.stringify(saga.steps),
    saga.failure && JSON.stringify(saga.failure),
    ...(outbox?.params ?? []),
  ]);
  return res.rowCount === 1;
}

/** Reads one saga, or undefined. */
export async function loadSaga(db: Pool | ClientBase, id: string): Promise<SagaRecord | undefined> {
  const { rows } = await db.query<SagaRow>(`SELECT ${COLUMNS} FROM saga_instance WHERE id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}

/**
 * Sagas that need attention: unfinished and not updated for `olderThanMs`, or waiting for an operator.
 */
export async function findStuckSagas(pool: Pool, olderThanMs: number, limit = 100): Promise<SagaRecord[]> {
  const { rows } = await pool.query<SagaRow>(
    `SELECT ${COLUMNS} FROM saga_instance
      WHERE state = 'FAILED_NEEDS_OPERATOR'
         OR (state IN ('RUNNING', 'COMPENSATING') AND updated_at < now() - $1 * interval '1 millisecond')
      ORDER BY updated_at LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map(toRecord);
}

/** Counts the sagas {@link findStuckSagas} would list. */
export async function countStuckSagas(pool: Pool, olderThanMs: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM saga_instance
      WHERE state = 'FAILED_NEEDS_OPERATOR'
         OR (state IN ('RUNNING', 'COMPENSATING') AND updated_at < now() - $1 * interval '1 millisecond')`,
    [olderThanMs],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Operator retry: puts a `FAILED_NEEDS_OPERATOR` saga back to work. It resumes compensating if it
 * had a failure, otherwise it resumes forward; attempt counters of unfinished steps restart at 0.
 * Returns false when the saga is not waiting for an operator.
 */
export async function retrySaga(pool: Pool, id: string): Promise<boolean> {
  const saga = await loadSaga(pool, id);
  if (!saga || saga.state !== 'FAILED_NEEDS_OPERATOR') return false;
  for (const step of Object.values(saga.steps)) {
    if (step.status !== 'SUCCEEDED' && step.status !== 'COMPENSATED') {
      step.compensationAttempts = 0;
      step.attempts = 0;
    }
  }
  const state: SagaState = saga.failure?.phase === 'forward' ? 'RUNNING' : 'COMPENSATING';
  const res = await pool.query(
    `UPDATE saga_instance SET state = $2, steps = $3, lease_owner = NULL, lease_until = NULL,
            next_run_at = now(), updated_at = now()
      WHERE id = $1 AND state = 'FAILED_NEEDS_OPERATOR'`,
    [id, state, JSON.stringify(saga.steps)],
  );
  return res.rowCount === 1;
}
