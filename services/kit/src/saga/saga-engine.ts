import { context, propagation, trace, SpanStatusCode, type Context } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import { backoffDelayMs, resolveRetryPolicy } from './retry-policy.js';
import type { SagaDefinition, SagaOutcome, SagaStep, StepContext } from './saga-definition.js';
import { SagaWriter } from './saga-writer.js';
import { SimulatedCrash, StepFailure, failureKindOf } from './step-failure.js';
import {
  claimSagas,
  finishSaga,
  insertSaga,
  releaseSaga,
  type BusinessRow,
  type SagaRecord,
} from './saga-store.js';

/** A step boundary, reported to {@link SagaEngineProps.onBoundary} for fault injection. */
export interface BoundaryEvent {
  readonly sagaId: string;
  readonly step: string;
  /** Whether the boundary belongs to the action or the compensation. */
  readonly phase: 'action' | 'compensation';
  /** `before`: after "maybe done" is recorded, before the call. `after`: after the call, before its result is recorded. */
  readonly point: 'before' | 'after';
  /** 1 for the first attempt of this action (or compensation), then 2, 3, ... */
  readonly attempt: number;
  /** The saga input. */
  readonly input: unknown;
}

/** Where the engine writes what it does. Compatible with pino. */
export interface SagaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Props of {@link SagaEngine}. */
export interface SagaEngineProps {
  /** The owning service's Postgres pool (the saga tables live there). */
  readonly pool: Pool;
  /**
   * How long a claim lasts without a write; a crashed worker's sagas are resumed after it.
   *
   * @default 5000
   */
  readonly leaseMs?: number;
  /**
   * How often the worker looks for unfinished sagas (orphans of crashed replicas, delayed retries).
   *
   * @default 500
   */
  readonly pollIntervalMs?: number;
  /**
   * Sagas claimed per poll.
   *
   * @default 50
   */
  readonly batchSize?: number;
  /**
   * Sagas running at once in this process; polling claims no more than the free slots.
   *
   * @default 200
   */
  readonly maxConcurrent?: number;
  /**
   * Backoffs up to this long are waited in-process while keeping the lease; longer ones give the
   * saga back to the pool with a `next_run_at`.
   *
   * @default 2000
   */
  readonly inlineBackoffMaxMs?: number;
  /**
   * Called at every step boundary; throw `SimulatedCrash` (or exit the process) to inject a crash.
   *
   * @default - no fault injection
   */
  readonly onBoundary?: (event: BoundaryEvent) => void | Promise<void>;
  /**
   * Logger.
   *
   * @default - silent
   */
  readonly logger?: SagaLogger;
}

/** A saga created inside the caller's transaction; call `dispatch()` once that transaction committed. */
export interface CreatedSaga {
  /** The saga id. */
  readonly id: string;
  /** Starts running the saga in this process right away (no poll delay). */
  dispatch(): void;
}

const silent: SagaLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tracer = trace.getTracer('@aio/kit/saga');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A durable saga orchestrator backed by the owning service's Postgres.
 *
 * Create sagas with {@link create} in the same transaction as the business row, then `dispatch()`.
 * {@link start} runs a worker that claims unfinished sagas (`FOR UPDATE SKIP LOCKED` leases) at
 * start and every poll, so several replicas share the work and resume a crashed replica's sagas.
 *
 * @see https://microservices.io/patterns/data/saga.html
 */
export class SagaEngine {
  /** Emits `finished` with the {@link SagaRecord} whenever a saga reaches a terminal or operator state. */
  public readonly events = new EventEmitter();
  private readonly definitions = new Map<string, SagaDefinition<unknown>>();
  private readonly latest = new Map<string, SagaDefinition<unknown>>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly pool: Pool;
  /** Boundary saves of every saga in this process, group-committed. */
  private readonly writer: SagaWriter;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly inlineBackoffMaxMs: number;
  private readonly log: SagaLogger;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  public constructor(private readonly props: SagaEngineProps) {
    this.pool = props.pool;
    this.writer = new SagaWriter(props.pool);
    this.leaseMs = props.leaseMs ?? 5000;
    this.pollIntervalMs = props.pollIntervalMs ?? 500;
    this.batchSize = props.batchSize ?? 50;
    this.inlineBackoffMaxMs = props.inlineBackoffMaxMs ?? 2000;
    this.log = props.logger ?? silent;
  }

  /** Registers a definition version. The highest registered version of a type is used for new sagas. */
  public register<I>(definition: SagaDefinition<I>): this {
    const def = definition as SagaDefinition<unknown>;
    this.definitions.set(`${def.type}@${def.version}`, def);
    const current = this.latest.get(def.type);
    if (!current || current.version < def.version) this.latest.set(def.type, def);
    return this;
  }

  /**
   * Inserts a new saga of `type` (latest version) inside the caller's transaction `client`, leased
   * to this process. The W3C trace context active now is stored with it, so every later step, on
   * any replica, joins the same trace.
   */
  public async create<I>(
    client: PoolClient,
    type: string,
    input: I,
    id: string = randomUUID(),
  ): Promise<CreatedSaga> {
    return (await this.insert(client, type, input, id))!;
  }

  /**
   * Inserts the business row and a new saga of `type` in ONE statement (no transaction round trips),
   * e.g. `{ sql: 'INSERT INTO orders ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1', params }`.
   * Returns undefined, and creates no saga, when the business statement returned no row.
   */
  public async createWith<I>(
    pool: Pool,
    business: BusinessRow,
    type: string,
    input: I,
    id: string = randomUUID(),
  ): Promise<CreatedSaga | undefined> {
    return this.insert(pool, type, input, id, business);
  }

  private async insert(
    db: Pool | PoolClient,
    type: string,
    input: unknown,
    id: string,
    business?: BusinessRow,
  ): Promise<CreatedSaga | undefined> {
    const def = this.latest.get(type);
    if (!def) throw new Error(`saga type '${type}' is not registered; call register() first`);
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const owner = randomUUID();
    // the first step is recorded as started in the insert itself: one write less per saga
    const first = def.steps[0];
    const steps = first
      ? { [first.name]: { status: 'STARTED' as const, attempts: 1, compensationAttempts: 0 } }
      : {};
    const record = await insertSaga(
      db,
      { id, type, version: def.version, input, steps, deadlineMs: def.deadlineMs ?? 60_000, traceContext },
      owner,
      this.leaseMs + (first?.timeoutMs ?? 10_000),
      business,
    );
    if (!record) return undefined;
    // dispatch after the current I/O callback, so the caller's reply goes out before the first call
    const dispatch = () => {
      const queued = new Promise<void>((resolve) =>
        setImmediate(() => {
          this.launch(record, owner, first?.name);
          resolve();
        }),
      );
      this.running.set(id, queued); // counted by idle() and maxConcurrent until launch replaces it
    };
    return { id, dispatch };
  }

  /** Starts the worker: claims unfinished sagas now and every `pollIntervalMs`. */
  public start(): void {
    this.stopping = false;
    const tick = async () => {
      try {
        await this.poll();
      } catch (err) {
        this.log.warn({ err }, 'saga poll failed');
      }
      if (!this.stopping) this.timer = setTimeout(tick, this.pollIntervalMs);
    };
    void tick();
  }

  /** Claims and runs one batch of unfinished sagas; returns how many were claimed. */
  public async poll(): Promise<number> {
    const kinds = [...this.definitions.keys()];
    if (kinds.length === 0) return 0;
    const free = Math.min(this.batchSize, (this.props.maxConcurrent ?? 200) - this.running.size);
    if (free <= 0) return 0;
    const owner = randomUUID();
    const claimed = await claimSagas(this.pool, kinds, owner, this.leaseMs, free);
    for (const record of claimed) this.launch(record, owner);
    return claimed.length;
  }

  /** Stops the worker and waits (up to `timeoutMs`) for running sagas to reach a boundary and give their lease back. */
  public async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([Promise.allSettled([...this.running.values()]), sleep(timeoutMs)]);
  }

  /** Whether the saga `id` is running in this process now (it emits `finished` here when it ends). */
  public isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Waits until no saga is running in this process. */
  public async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private launch(record: SagaRecord, owner: string, preStarted?: string): void {
    const def = this.definitions.get(`${record.type}@${record.version}`);
    if (!def) {
      this.running.delete(record.id);
      return; // another replica with this version will claim it once the lease expires
    }
    const run = this.execute(def, record, owner, preStarted)
      .catch((err: unknown) => {
        if (err instanceof SimulatedCrash) return;
        this.log.error(
          { err, sagaId: record.id },
          'saga run aborted; another worker resumes it after the lease',
        );
      })
      .finally(() => {
        if (this.running.get(record.id) === run) this.running.delete(record.id);
      });
    this.running.set(record.id, run);
  }

  private async execute(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    preStarted?: string,
  ): Promise<void> {
    let skipStart = preStarted;
    const parent = propagation.extract(context.active(), rec.traceContext);
    for (;;) {
      if (this.stopping) {
        await releaseSaga(this.pool, rec, owner, 0);
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

  /** Runs the next forward step once. Returns 'stop' when the run ends (finished, released or lost). */
  private async forward(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    parent: Context,
    preStarted?: string,
  ): Promise<'continue' | 'stop'> {
    const step = def.steps.find((s) => rec.steps[s.name]?.status !== 'SUCCEEDED');
    if (!step) {
      rec.state = 'COMPLETED';
      return this.finish(def, rec, owner);
    }
    const kind = step.kind ?? 'COMPENSABLE';
    if (kind === 'COMPENSABLE' && Date.now() > rec.deadlineAt.getTime()) {
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

    const ctx = this.stepContext(rec, step, `${rec.id}:${step.name}`, s.attempts);
    try {
      const result = await this.attempt(step, ctx, 'action', parent, () => step.action(ctx));
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
  ): Promise<'continue' | 'stop'> {
    const s = rec.steps[step.name]!;
    const kind = step.kind ?? 'COMPENSABLE';
    const failureKind = failureKindOf(err);
    const message = err instanceof Error ? err.message : String(err);
    s.lastError = message;
    if (failureKind === 'REJECTED') {
      s.status = 'REJECTED';
      const reason = (err as StepFailure).reason ?? 'REJECTED';
      if (kind === 'RETRIABLE') {
        rec.failure = { step: step.name, reason, message, phase: 'forward' };
        rec.state = 'FAILED_NEEDS_OPERATOR';
        return this.finish(def, rec, owner);
      }
      rec.failure = { step: step.name, reason, message };
      rec.state = 'COMPENSATING';
      return (await this.save(rec, owner)) ? 'continue' : 'stop';
    }
    const policy = resolveRetryPolicy(step.retry);
    const limit = kind === 'COMPENSABLE' ? policy.maxAttempts : (def.forwardMaxAttempts ?? 50);
    if (s.attempts >= limit) {
      if (kind === 'COMPENSABLE') {
        rec.failure = { step: step.name, reason: 'RETRIES_EXHAUSTED', message };
        rec.state = 'COMPENSATING'; // the step stays STARTED: maybe done, so it is compensated too
        return (await this.save(rec, owner)) ? 'continue' : 'stop';
      }
      rec.failure = { step: step.name, reason: 'RETRIES_EXHAUSTED', message, phase: 'forward' };
      rec.state = 'FAILED_NEEDS_OPERATOR';
      return this.finish(def, rec, owner);
    }
    return this.backoff(rec, owner, backoffDelayMs(policy, s.attempts));
  }

  /** Runs the compensations in reverse order, each retried until it succeeds or runs out of attempts. */
  private async compensate(
    def: SagaDefinition<unknown>,
    rec: SagaRecord,
    owner: string,
    parent: Context,
  ): Promise<'continue' | 'stop'> {
    const step = [...def.steps].reverse().find((st) => {
      const s = rec.steps[st.name];
      return (
        st.compensation &&
        s &&
        (s.status === 'STARTED' || s.status === 'SUCCEEDED' || s.status === 'COMPENSATING')
      );
    });
    if (!step) {
      rec.state = 'COMPENSATED';
      return this.finish(def, rec, owner);
    }
    const s = rec.steps[step.name]!;
    s.status = 'COMPENSATING';
    s.compensationAttempts += 1;
    if (!(await this.save(rec, owner, step.timeoutMs))) return 'stop';
    const ctx = this.stepContext(rec, step, `${rec.id}:${step.name}:compensate`, s.compensationAttempts);
    try {
      await this.attempt(step, ctx, 'compensation', parent, () => step.compensation!(ctx));
      s.status = 'COMPENSATED';
      delete s.lastError;
      return 'continue';
    } catch (err) {
      if (err instanceof SimulatedCrash) throw err;
      s.lastError = err instanceof Error ? err.message : String(err);
      if (s.compensationAttempts >= (def.compensationMaxAttempts ?? 20)) {
        rec.state = 'FAILED_NEEDS_OPERATOR';
        rec.failure ??= { step: step.name, reason: 'COMPENSATION_FAILED', message: s.lastError };
        this.log.error(
          { sagaId: rec.id, step: step.name, err },
          'compensation keeps failing; saga needs an operator',
        );
        return this.finish(def, rec, owner);
      }
      return this.backoff(rec, owner, backoffDelayMs(resolveRetryPolicy(step.retry), s.compensationAttempts));
    }
  }

  private async attempt<T>(
    step: SagaStep<unknown>,
    ctx: StepContext<unknown>,
    phase: 'action' | 'compensation',
    parent: Context,
    call: () => Promise<T>,
  ): Promise<T> {
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

  private async backoff(rec: SagaRecord, owner: string, delayMs: number): Promise<'continue' | 'stop'> {
    if (delayMs > this.inlineBackoffMaxMs) {
      await releaseSaga(this.pool, rec, owner, delayMs);
      return 'stop';
    }
    if (!(await this.writer.save(rec, owner, this.leaseMs + delayMs))) return 'stop';
    await sleep(delayMs);
    return 'continue';
  }

  /** Saves at a boundary; before a call the lease also covers the call's timeout. */
  private async save(rec: SagaRecord, owner: string, callTimeoutMs?: number): Promise<boolean> {
    const ok = await this.writer.save(rec, owner, this.leaseMs + (callTimeoutMs ?? 0));
    if (!ok) this.log.warn({ sagaId: rec.id }, 'saga lease lost; another worker owns it now');
    return ok;
  }

  private async finish(def: SagaDefinition<unknown>, rec: SagaRecord, owner: string): Promise<'stop'> {
    const terminal = rec.state === 'COMPLETED' || rec.state === 'COMPENSATED';
    if (!def.onFinished) {
      const outcome = terminal ? this.outcome(rec) : undefined;
      const business = outcome && def.finishStatement?.(rec.id, rec.input, outcome);
      if (!(await finishSaga(this.pool, rec, owner, business))) return 'stop';
      this.events.emit('finished', rec);
      return 'stop';
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (!(await finishSaga(client, rec, owner))) {
        await client.query('ROLLBACK');
        return 'stop';
      }
      if (terminal) await def.onFinished(client, rec.id, rec.input, this.outcome(rec));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    this.events.emit('finished', rec);
    return 'stop';
  }

  private outcome(rec: SagaRecord): SagaOutcome {
    return {
      state: rec.state === 'COMPLETED' ? 'COMPLETED' : 'COMPENSATED',
      results: resultsOf(rec),
      ...(rec.failure ? { failure: rec.failure } : {}),
    };
  }

  private stepContext(
    rec: SagaRecord,
    step: SagaStep<unknown>,
    idempotencyKey: string,
    attempt: number,
  ): StepContext<unknown> {
    return {
      sagaId: rec.id,
      step: step.name,
      idempotencyKey,
      input: rec.input,
      results: resultsOf(rec),
      attempt,
    };
  }
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
