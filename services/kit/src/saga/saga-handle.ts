import type { SagaRecord } from './saga-schema.js';

/** Options of {@link SagaHandle.getResult}. */
export interface SagaResultOptions {
  /**
   * Gives up after this long and resolves undefined (the saga goes on).
   *
   * @default - waits until the saga settles
   */
  readonly timeoutMs?: number;
}

/**
 * A saga, by id: read its state, or wait for its outcome. Modelled on DBOS's `WorkflowHandle`
 * (`getStatus()`, `getResult()`), from `SagaEngine.create`/`createWith` or `SagaEngine.handle(id)`.
 *
 * @see https://docs.dbos.dev/typescript/reference/workflow-handles
 */
export interface SagaHandle {
  /** The saga id. */
  readonly id: string;
  /** The saga as stored now, or undefined when there is no such saga. */
  getStatus(): Promise<SagaRecord | undefined>;
  /**
   * Waits until the saga settles: `COMPLETED`, `COMPENSATED`, or `FAILED_NEEDS_OPERATOR` (an operator
   * retry may still move it on). Resolves with the saga as it settled, or undefined when `timeoutMs`
   * passed first or there is no such saga. A saga running in this process wakes its waiters when it
   * settles, with no read; one running elsewhere (another replica) is read every poll interval.
   */
  getResult(options?: SagaResultOptions): Promise<SagaRecord | undefined>;
}

/** A saga created inside the caller's transaction (or statement); call `dispatch()` once that committed. */
export interface CreatedSaga extends SagaHandle {
  /** Starts running the saga in this process right away (no poll delay). */
  dispatch(): void;
}

/** Whether a saga in `state` has settled, as {@link SagaHandle.getResult} means it. */
export function isSettled(state: SagaRecord['state']): boolean {
  return state === 'COMPLETED' || state === 'COMPENSATED' || state === 'FAILED_NEEDS_OPERATOR';
}
