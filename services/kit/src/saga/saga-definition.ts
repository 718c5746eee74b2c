import type { RetryPolicy } from './retry-policy.js';
import type { SqlStatement } from './saga-schema.js';

/**
 * Where a step sits relative to the saga's point of no return.
 *
 * - `COMPENSABLE`: can be undone. A failure (after its attempts) or the saga deadline makes the
 *   saga compensate.
 * - `PIVOT`: the point of no return (e.g. "commit the reservation"). Transient failures are retried
 *   up to the step's attempt limit, then an operator takes over; a business rejection compensates
 *   the steps before it. The deadline no longer applies from here on.
 * - `RETRIABLE`: after the pivot (e.g. "capture the payment"). Must eventually succeed: retried up
 *   to the step's attempt limit, then an operator takes over.
 */
export type StepKind = 'COMPENSABLE' | 'PIVOT' | 'RETRIABLE';

/**
 * What an action or compensation receives. There is no idempotency key: a participant call must name
 * the resource it acts on with a key from the input (the order id), and participants answer a
 * repeated request under that key with their first outcome (docs/saga.md, "Idempotency contract").
 */
export interface StepContext<I> {
  /** The saga instance id. */
  readonly sagaId: string;
  /** The step name. */
  readonly step: string;
  /** `action` or `compensation`. */
  readonly phase: 'action' | 'compensation';
  /** The saga input, as given to `create`. */
  readonly input: I;
  /** The results of the steps that already succeeded, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** 1 for the first attempt of this action (or compensation), then 2, 3, ... */
  readonly attempt: number;
}

/** The undo of a {@link CompensableStep}, with its own attempt limit. */
export interface Compensation<I> {
  /**
   * Undoes the action. Must be idempotent and succeed when there is nothing to undo: it also runs
   * when the action timed out and may never have happened.
   */
  run(ctx: StepContext<I>): Promise<void>;
  /**
   * Retry policy of the compensation. After `retry.maxAttempts` failed attempts the saga becomes
   * `FAILED_NEEDS_OPERATOR` (an operator retry starts the count again).
   */
  readonly retry: RetryPolicy;
}

/** What every step kind has: a name, an action, its attempt limit and its timeout. */
interface StepBase<I> {
  /** Unique within the definition. State is recorded by this name, never by position. */
  readonly name: string;
  /** Does the work. Throws a `StepFailure` to say how it failed; returns a JSON-serializable result. */
  action(ctx: StepContext<I>): Promise<unknown>;
  /**
   * Retry policy for transient failures of the action: the action runs at most `retry.maxAttempts`
   * times, whatever the step kind. What happens then depends on the kind.
   */
  readonly retry: RetryPolicy;
  /**
   * Upper bound for one attempt, in milliseconds; a slower attempt counts as a `TIMEOUT` failure.
   *
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/**
 * A step before the pivot. After `retry.maxAttempts` failed attempts (or a business rejection, or the
 * deadline) the saga compensates: this step too when it may have happened.
 */
export interface CompensableStep<I> extends StepBase<I> {
  readonly kind: 'COMPENSABLE';
  /**
   * How to undo the action.
   *
   * @default - nothing to undo
   */
  readonly compensation?: Compensation<I>;
}

/**
 * The point of no return. After `retry.maxAttempts` failed attempts the saga goes to an operator
 * (`FAILED_NEEDS_OPERATOR`); a business rejection compensates the steps before it.
 */
export interface PivotStep<I> extends StepBase<I> {
  readonly kind: 'PIVOT';
}

/**
 * A step after the pivot: it must eventually succeed. After `retry.maxAttempts` failed attempts, or a
 * business rejection, the saga goes to an operator (`FAILED_NEEDS_OPERATOR`).
 */
export interface RetriableStep<I> extends StepBase<I> {
  readonly kind: 'RETRIABLE';
}

/**
 * One step of a saga. The kind is always written out, and so is every attempt limit: the action's
 * `retry.maxAttempts`, and the compensation's `compensation.retry.maxAttempts`. No definition-wide
 * setting replaces them.
 */
export type SagaStep<I> = CompensableStep<I> | PivotStep<I> | RetriableStep<I>;

/** How a saga ended, as given to {@link SagaDefinition.onFinish}. */
export interface SagaOutcome<I = unknown> {
  /** The saga id. */
  readonly sagaId: string;
  /** The saga input, as given to `create`. */
  readonly input: I;
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
   * The finish hook: one statement that runs in the same SQL statement as the update recording the
   * saga's end (COMPLETED or COMPENSATED), e.g. `UPDATE orders SET status = $1 WHERE order_id =
   * (SELECT id FROM saga_finished)`. The CTE `saga_finished` holds the saga id, or no row when another
   * worker took the saga over (then nothing is written). Several writes are data-modifying CTEs of that
   * one statement. Called exactly once per saga that ends; not for `FAILED_NEEDS_OPERATOR`.
   *
   * @default - nothing
   */
  onFinish?(outcome: SagaOutcome<I>): SqlStatement | undefined;
}

/**
 * Checks a definition and returns it, typed.
 *
 * @throws Error when a step name is empty or repeated, a kind or an attempt limit is missing or wrong,
 *   or the version is not a positive integer
 */
export function defineSaga<I>(definition: SagaDefinition<I>): SagaDefinition<I> {
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new Error(`saga ${definition.type}: version must be a positive integer, got ${definition.version}`);
  }
  const seen = new Set<string>();
  let pivotSeen = false;
  const where = (step: { name: string }) => `saga ${definition.type}: step '${step.name}'`;
  for (const step of definition.steps) {
    if (!step.name) throw new Error(`saga ${definition.type}: every step needs a name`);
    if (seen.has(step.name)) {
      throw new Error(
        `saga ${definition.type}: step name '${step.name}' is used twice; names must be unique`,
      );
    }
    seen.add(step.name);
    const kind: unknown = step.kind;
    if (kind !== 'COMPENSABLE' && kind !== 'PIVOT' && kind !== 'RETRIABLE') {
      throw new Error(`${where(step)}: kind must be COMPENSABLE, PIVOT or RETRIABLE, got ${String(kind)}`);
    }
    checkMaxAttempts(`${where(step)}: retry.maxAttempts`, step.retry?.maxAttempts);
    if (step.kind === 'COMPENSABLE') {
      if (pivotSeen) {
        throw new Error(
          `${where(step)} is COMPENSABLE after a PIVOT; make it RETRIABLE or move it before the pivot`,
        );
      }
      if (step.compensation) {
        checkMaxAttempts(
          `${where(step)}: compensation.retry.maxAttempts`,
          step.compensation.retry?.maxAttempts,
        );
      }
    } else {
      if ((step as { compensation?: unknown }).compensation !== undefined) {
        throw new Error(`${where(step)} is ${step.kind}: only COMPENSABLE steps have a compensation`);
      }
      pivotSeen = true;
    }
  }
  return definition;
}

function checkMaxAttempts(what: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`${what} must be a positive integer, got ${String(value)}`);
  }
}
