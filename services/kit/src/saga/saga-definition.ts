import type { PoolClient } from 'pg';
import type { RetryPolicy } from './retry-policy.js';
import type { BusinessRow } from './saga-store.js';

/**
 * Where a step sits relative to the saga's point of no return.
 *
 * - `COMPENSABLE` (default): can be undone. A failure (after retries) or the saga deadline makes the
 *   saga compensate.
 * - `PIVOT`: the point of no return (e.g. "commit the reservation"). Transient failures are retried
 *   until the participant answers; a business rejection compensates the steps before it. The
 *   deadline no longer applies from here on.
 * - `RETRIABLE`: after the pivot (e.g. "capture the payment"). Must eventually succeed: retried until
 *   it does, or the saga is handed to an operator.
 */
export type StepKind = 'COMPENSABLE' | 'PIVOT' | 'RETRIABLE';

/** What an action or compensation receives. */
export interface StepContext<I> {
  /** The saga instance id. */
  readonly sagaId: string;
  /** The step name. */
  readonly step: string;
  /**
   * The idempotency key every participant call of this step must carry: `<sagaId>:<step>`.
   * Compensations use the same key with a `:compensate` suffix.
   */
  readonly idempotencyKey: string;
  /** The saga input, as given to `create`. */
  readonly input: I;
  /** The results of the steps that already succeeded, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** 1 for the first attempt of this action (or compensation), then 2, 3, ... */
  readonly attempt: number;
}

/** One step of a saga: an action and its optional compensation. */
export interface SagaStep<I> {
  /** Unique within the definition. State is recorded by this name, never by position. */
  readonly name: string;
  /**
   * Position relative to the point of no return.
   *
   * @default 'COMPENSABLE'
   */
  readonly kind?: StepKind;
  /** Does the work. Throws a `StepFailure` to say how it failed; returns a JSON-serializable result. */
  action(ctx: StepContext<I>): Promise<unknown>;
  /**
   * Undoes the action. Must be idempotent and succeed when there is nothing to undo: it also runs
   * when the action timed out and may never have happened.
   *
   * @default - nothing to undo
   */
  compensation?(ctx: StepContext<I>): Promise<void>;
  /**
   * Retry policy for transient failures of the action and the compensation.
   *
   * @default - see RetryPolicy defaults
   */
  readonly retry?: RetryPolicy;
  /**
   * Upper bound for one attempt, in milliseconds; a slower attempt counts as a `TIMEOUT` failure.
   *
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/** How a saga ended, as given to `onFinished`. */
export interface SagaOutcome {
  /** `COMPLETED` when every step succeeded, `COMPENSATED` when it was rolled back. */
  readonly state: 'COMPLETED' | 'COMPENSATED';
  /** Why it compensated: the failed step and the participant's reason. */
  readonly failure?: SagaFailure;
  /** The results of the steps, by name. */
  readonly results: Readonly<Record<string, unknown>>;
}

/** Why a saga compensated or stopped. */
export interface SagaFailure {
  /** The step that failed, or that was running when the deadline passed. */
  readonly step: string;
  /** The participant's reason (`INSUFFICIENT_STOCK`, `card_declined`, ...), `DEADLINE_EXCEEDED` or `RETRIES_EXHAUSTED`. */
  readonly reason: string;
  /** The last error message. */
  readonly message?: string;
  /**
   * `forward` when a step after the pivot could not finish (an operator retry resumes forward);
   * otherwise the saga compensates.
   *
   * @default 'compensation'
   */
  readonly phase?: 'forward' | 'compensation';
}

/** A versioned saga definition. */
export interface SagaDefinition<I> {
  /** The saga type, e.g. `place-order`. */
  readonly type: string;
  /**
   * The definition version. Bump it when steps change; in-flight sagas finish on the version they
   * started with, so keep the old definition registered until they are done.
   */
  readonly version: number;
  /** The steps, in execution order. Compensations run in reverse order. */
  readonly steps: readonly SagaStep<I>[];
  /**
   * Time from creation after which an unfinished saga compensates (before its pivot).
   *
   * @default 60000
   */
  readonly deadlineMs?: number;
  /**
   * Compensation attempts per step before the saga is marked `FAILED_NEEDS_OPERATOR`.
   *
   * @default 20
   */
  readonly compensationMaxAttempts?: number;
  /**
   * Attempts of a `PIVOT` or `RETRIABLE` action before the saga is marked `FAILED_NEEDS_OPERATOR`.
   *
   * @default 50
   */
  readonly forwardMaxAttempts?: number;
  /**
   * Runs in the same transaction that records the terminal state, e.g. to mark the order
   * APPROVED or REJECTED. Called exactly once per saga.
   *
   * @default - nothing
   */
  onFinished?(client: PoolClient, sagaId: string, input: I, outcome: SagaOutcome): Promise<void>;
  /**
   * The cheaper alternative to `onFinished` (used when `onFinished` is absent): one statement that
   * runs in the same SQL statement as the terminal state update, e.g.
   * `UPDATE orders SET status = $1 WHERE order_id = (SELECT id FROM saga_finished)`. The CTE
   * `saga_finished` holds the saga id, or nothing when another worker took the saga over.
   *
   * @default - nothing
   */
  finishStatement?(sagaId: string, input: I, outcome: SagaOutcome): BusinessRow;
}

/**
 * Checks a definition and returns it, typed.
 *
 * @throws Error when a step name is empty or repeated, or the version is not a positive integer
 */
export function defineSaga<I>(definition: SagaDefinition<I>): SagaDefinition<I> {
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new Error(`saga ${definition.type}: version must be a positive integer, got ${definition.version}`);
  }
  const seen = new Set<string>();
  let pivotSeen = false;
  for (const step of definition.steps) {
    if (!step.name) throw new Error(`saga ${definition.type}: every step needs a name`);
    if (seen.has(step.name)) {
      throw new Error(
        `saga ${definition.type}: step name '${step.name}' is used twice; names must be unique`,
      );
    }
    seen.add(step.name);
    const kind = step.kind ?? 'COMPENSABLE';
    if (kind === 'COMPENSABLE' && pivotSeen) {
      throw new Error(
        `saga ${definition.type}: step '${step.name}' is COMPENSABLE after a PIVOT; make it RETRIABLE or move it before the pivot`,
      );
    }
    if (kind !== 'COMPENSABLE') pivotSeen = true;
  }
  return definition;
}
