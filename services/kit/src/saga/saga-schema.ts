import type { SagaFailure } from './saga-definition.js';
import type { OutboxEvent } from '../outbox/outbox-event.js';

/** Saga states. `COMPLETED` and `COMPENSATED` are terminal; `FAILED_NEEDS_OPERATOR` waits for a retry. */
export type SagaState = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED_NEEDS_OPERATOR';

/**
 * Step statuses. `STARTED` is written before the participant call, so a crash or timeout leaves
 * the step "maybe done" and its compensation runs.
 */
export type StepStatus = 'STARTED' | 'SUCCEEDED' | 'REJECTED' | 'COMPENSATING' | 'COMPENSATED';

/** The recorded state of one step, keyed by step name in {@link SagaRecord.steps}. */
export interface StepRecord {
  status: StepStatus;
  /** Attempts of the action so far. */
  attempts: number;
  /** Attempts of the compensation so far. */
  compensationAttempts: number;
  /** The action's result, once it succeeded. */
  result?: unknown;
  /** The last error message. */
  lastError?: string;
}

/** One saga instance as stored (what `SagaHandle.getStatus()` and `getResult()` give). */
export interface SagaRecord {
  id: string;
  type: string;
  version: number;
  state: SagaState;
  input: unknown;
  steps: Record<string, StepRecord>;
  failure: SagaFailure | null;
  deadlineAt: Date;
  traceContext: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/**
 * The saga tables. Idempotent: safe to run at every start (or copy into the service's migrations).
 * `steps` holds the step log as a JSON object keyed by step name, so one row update records a
 * step boundary.
 */
export const SAGA_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS saga_instance (
  id            uuid PRIMARY KEY,
  saga_type     text NOT NULL,
  version       integer NOT NULL,
  state         text NOT NULL,
  input         jsonb NOT NULL,
  steps         jsonb NOT NULL DEFAULT '{}'::jsonb,
  failure       jsonb,
  trace_context jsonb NOT NULL DEFAULT '{}'::jsonb,
  deadline_at   timestamptz NOT NULL,
  next_run_at   timestamptz NOT NULL DEFAULT now(),
  lease_owner   uuid,
  lease_until   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
) WITH (fillfactor = 70);
-- Boundary saves write state, steps, failure, updated_at and lease_until several times per saga. No
-- index may cover those columns (a partial index's predicate on state is fine while state stays the
-- same), and pages keep room, so the saves are HOT updates: no index entries, less WAL and vacuum.
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_class WHERE oid = 'saga_instance'::regclass AND 'fillfactor=70' = ANY (reloptions)) THEN
    ALTER TABLE saga_instance SET (fillfactor = 70); -- a table created by an earlier version
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS saga_instance_runnable ON saga_instance (next_run_at)
  WHERE state IN ('RUNNING', 'COMPENSATING');
DROP INDEX IF EXISTS saga_instance_open;
CREATE INDEX IF NOT EXISTS saga_instance_unfinished ON saga_instance (created_at)
  WHERE state IN ('RUNNING', 'COMPENSATING', 'FAILED_NEEDS_OPERATOR');
`;

/**
 * One SQL statement with its parameters: the business row inserted with a saga
 * (`SagaEngine.createWith`), or a definition's finish hook (`onFinish`).
 */
export interface SqlStatement {
  /** A statement using `$1` .. `$n`; for `createWith`, one that returns a row when it wrote one. */
  readonly sql: string;
  /** Its parameters. */
  readonly params: readonly unknown[];
  /**
   * Outbox events recorded by the same statement, only when the business change happened (see
   * `withEvents` in the kit's outbox). `createWith` and `onFinish` splice them in themselves.
   *
   * @default - none
   */
  readonly events?: readonly OutboxEvent[];
}
