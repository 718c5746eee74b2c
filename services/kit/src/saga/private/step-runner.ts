import { context, propagation, trace, SpanStatusCode, type Context } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { backoffDelayMs, resolveRetryPolicy } from '../retry-policy.js';
import type { SagaDefinition, SagaOutcome, SagaStep, StepContext } from '../saga-definition.js';
import type { BoundaryEvent, SagaLogger } from '../saga-engine.js';
import type { SagaRecord } from '../saga-schema.js';
import { SimulatedCrash, StepFailure, failureKindOf } from '../step-failure.js';
import { finishSaga, releaseSaga } from './saga-store.js';
import type { SagaWriter } from './saga-writer.js';

/** What a {@link StepRunner} needs from the engine. */
export interface StepRunnerProps {
  readonly pool: Pool;
  /** Boundary saves, group-committed with the other sagas of this process. */
  readonly writer: SagaWriter;
  readonly leaseMs: number;
  readonly inlineBackoffMaxMs: number;
  readonly onBoundary?: (event: BoundaryEvent) => void | Promise<void>;
  readonly log: SagaLogger;
  /** True once the worker is stopping: the run gives its saga back at the next boundary. */
  isStopping(): boolean;
  /** Called once the saga's end (or its hand-over to an operator) is committed. */
  onSettled(record: SagaRecord): void;
}

type Next = 'continue' | 'stop';

const tracer = trace.getTracer('@aio/kit/saga');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs one claimed saga, boundary by boundary, until it ends, waits for a later retry, or loses its
 * lease. Every decision about a step lives here: "maybe done" recorded before each call, each step's
 * own attempt limits for its action and its compensation, the deadline before the pivot, and the
 * finish hook in the statement that records the end.
 */
export class StepRunner {
  public constructor(private readonly props: StepRunnerProps) {}

  /**
   * Runs `rec` under the lease `owner`. `preStarted` names the step whose first attempt the insert
   * already recorded as started (no save needed before its call).
   */
  public async run(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    preStarted?: string,
  ): Promise<void> {
    let skipStart = preStarted;
    const parent = propagation.extract(context.active(), rec.traceContext);
    for (;;) {
      if (this.props.isStopping()) {
        await releaseSaga(this.props.pool, rec, owner, 0);
        return;
      }
      const next =
        rec.state === 'RUNNING'
          ? await this.forward(def, rec, owner, parent, skipStart)
          : await this.compensate(def, rec, owner, parent);
      skipStart = undefined;
      if (next === 'stop') return;
    }
  }

  /** Runs the next forward step once. */
  private async forward(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    parent: Context,
    preStarted?: string,
  ): Promise<Next> {
    const step = def.steps.find((s) => rec.steps[s.name]?.status !== 'SUCCEEDED');
    if (!step) {
      rec.state = 'COMPLETED';
      return this.finish(def, rec, owner);
    }
    if (step.kind === 'COMPENSABLE' && Date.now() > rec.deadlineAt.getTime()) {
      rec.failure = {
        step: step.name,
        reason: 'DEADLINE_EXCEEDED',
        message: 'saga deadline passed before the step finished',
      };
      rec.state = 'COMPENSATING';
      return (await this.save(rec, owner)) ? 'continue' : 'stop';
    }
    const s = (rec.steps[step.name] ??= { status: 'STARTED', attempts: 0, compensationAttempts: 0 });
    if (preStarted !== step.name) {
      s.status = 'STARTED';
      s.attempts += 1;
      if (!(await this.save(rec, owner, step.timeoutMs))) return 'stop';
    } // else: the insert already recorded this first attempt as started

    const ctx = stepContext(rec, step, 'action', s.attempts);
    try {
      const result = await this.attempt(step, ctx, parent, () => step.action(ctx));
      s.status = 'SUCCEEDED';
      s.result = result ?? null;
      delete s.lastError;
      return 'continue'; // recorded together with the next boundary
    } catch (err) {
      if (err instanceof SimulatedCrash) throw err;
      return this.onActionFailure(def, rec, owner, step, err);
    }
  }

  private async onActionFailure(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    step: SagaStep<unknown>,
    err: unknown,
  ): Promise<Next> {
    const s = rec.steps[step.name]!;
    const message = err instanceof Error ? err.message : String(err);
    s.lastError = message;
    if (failureKindOf(err) === 'REJECTED') {
      s.status = 'REJECTED';
      const reason = (err as StepFailure).reason ?? 'REJECTED';
      if (step.kind === 'RETRIABLE') {
        rec.failure = { step: step.name, reason, message, phase: 'forward' };
        rec.state = 'FAILED_NEEDS_OPERATOR';
        return this.finish(def, rec, owner);
      }
      rec.failure = { step: step.name, reason, message };
      rec.state = 'COMPENSATING';
      return (await this.save(rec, owner)) ? 'continue' : 'stop';
    }
    // the step's own limit, whatever its kind: nothing replaces it
    if (s.attempts >= step.retry.maxAttempts) {
      if (step.kind === 'COMPENSABLE') {
        rec.failure = { step: step.name, reason: 'RETRIES_EXHAUSTED', message };
        rec.state = 'COMPENSATING'; // the step stays STARTED: maybe done, so it is compensated too
        return (await this.save(rec, owner)) ? 'continue' : 'stop';
      }
      rec.failure = { step: step.name, reason: 'RETRIES_EXHAUSTED', message, phase: 'forward' };
      rec.state = 'FAILED_NEEDS_OPERATOR';
      return this.finish(def, rec, owner);
    }
    return this.backoff(rec, owner, backoffDelayMs(resolveRetryPolicy(step.retry), s.attempts));
  }

  /** Runs the next compensation (in reverse step order) once. */
  private async compensate(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    parent: Context,
  ): Promise<Next> {
    const step = [...def.steps].reverse().find((st) => {
      const s = rec.steps[st.name];
      return (
        st.kind === 'COMPENSABLE' &&
        st.compensation &&
        s &&
        (s.status === 'STARTED' || s.status === 'SUCCEEDED' || s.status === 'COMPENSATING')
      );
    });
    if (!step || step.kind !== 'COMPENSABLE' || !step.compensation) {
      rec.state = 'COMPENSATED';
      return this.finish(def, rec, owner);
    }
    const compensation = step.compensation;
    const s = rec.steps[step.name]!;
    s.status = 'COMPENSATING';
    s.compensationAttempts += 1;
    if (!(await this.save(rec, owner, step.timeoutMs))) return 'stop';
    const ctx = stepContext(rec, step, 'compensation', s.compensationAttempts);
    try {
      await this.attempt(step, ctx, parent, () => compensation.run(ctx));
      s.status = 'COMPENSATED';
      delete s.lastError;
      return 'continue';
    } catch (err) {
      if (err instanceof SimulatedCrash) throw err;
      s.lastError = err instanceof Error ? err.message : String(err);
      if (s.compensationAttempts >= compensation.retry.maxAttempts) {
        rec.state = 'FAILED_NEEDS_OPERATOR';
        rec.failure ??= { step: step.name, reason: 'COMPENSATION_FAILED', message: s.lastError };
        this.props.log.error(
          { sagaId: rec.id, step: step.name, err },
          'compensation keeps failing; saga needs an operator',
        );
        return this.finish(def, rec, owner);
      }
      const policy = resolveRetryPolicy(compensation.retry);
      return this.backoff(rec, owner, backoffDelayMs(policy, s.compensationAttempts));
    }
  }

  /** One call of an action or compensation: boundaries, a span in the saga's trace, the timeout. */
  private async attempt<T>(
    step: SagaStep<unknown>,
    ctx: StepContext<unknown>,
    parent: Context,
    call: () => Promise<T>,
  ): Promise<T> {
    const { phase } = ctx;
    const boundary = { sagaId: ctx.sagaId, step: step.name, phase, attempt: ctx.attempt, input: ctx.input };
    await this.props.onBoundary?.({ ...boundary, point: 'before' });
    const name = `saga ${phase === 'action' ? 'step' : 'compensate'} ${step.name}`;
    const outcome = await tracer.startActiveSpan(
      name,
      { attributes: { 'saga.id': ctx.sagaId, 'saga.attempt': ctx.attempt } },
      parent,
      async (span) => {
        try {
          return { ok: true as const, value: await withTimeout(call(), step.timeoutMs ?? 10_000, step.name) };
        } catch (error) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          return { ok: false as const, error };
        } finally {
          span.end();
        }
      },
    );
    await this.props.onBoundary?.({ ...boundary, point: 'after' });
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Waits `delayMs` keeping the lease, or gives the saga back for later when that is long. */
  private async backoff(rec: SagaRecord, owner: string, delayMs: number): Promise<Next> {
    const { pool, writer, leaseMs, inlineBackoffMaxMs } = this.props;
    if (delayMs > inlineBackoffMaxMs) {
      await releaseSaga(pool, rec, owner, delayMs);
      return 'stop';
    }
    if (!(await writer.save(rec, owner, leaseMs + delayMs))) return 'stop';
    await sleep(delayMs);
    return 'continue';
  }

  /** Saves at a boundary; before a call the lease also covers the call's timeout. */
  private async save(rec: SagaRecord, owner: string, callTimeoutMs?: number): Promise<boolean> {
    const ok = await this.props.writer.save(rec, owner, this.props.leaseMs + (callTimeoutMs ?? 0));
    if (!ok) this.props.log.warn({ sagaId: rec.id }, 'saga lease lost; another worker owns it now');
    return ok;
  }

  /** Records the end (or the hand-over to an operator), with the finish hook in the same statement. */
  private async finish(def: SagaDefinition<unknown>, rec: SagaRecord, owner: string): Promise<'stop'> {
    const ended = rec.state === 'COMPLETED' || rec.state === 'COMPENSATED';
    const statement = ended ? def.onFinish?.(outcomeOf(rec)) : undefined;
    if (await finishSaga(this.props.pool, rec, owner, statement)) this.props.onSettled(rec);
    return 'stop';
  }
}

function outcomeOf(rec: SagaRecord): SagaOutcome {
  return {
    sagaId: rec.id,
    input: rec.input,
    state: rec.state === 'COMPLETED' ? 'COMPLETED' : 'COMPENSATED',
    results: resultsOf(rec),
    ...(rec.failure ? { failure: rec.failure } : {}),
  };
}

function stepContext(
  rec: SagaRecord,
  step: SagaStep<unknown>,
  phase: 'action' | 'compensation',
  attempt: number,
): StepContext<unknown> {
  return { sagaId: rec.id, step: step.name, phase, input: rec.input, results: resultsOf(rec), attempt };
}

function resultsOf(rec: SagaRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(rec.steps)) if (s.result !== undefined) out[name] = s.result;
  return out;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(StepFailure.timeout(`step '${label}' got no reply within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
