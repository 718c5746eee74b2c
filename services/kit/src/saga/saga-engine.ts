import { context, propagation } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { SagaDefinition } from './saga-definition.js';
import type { CreatedSaga, SagaHandle } from './saga-handle.js';
import type { SqlStatement } from './saga-schema.js';
import { SagaRegistry } from './private/saga-registry.js';
import { SagaResults } from './private/saga-results.js';
import { insertSaga, loadSaga } from './private/saga-store.js';
import { SagaWorker } from './private/saga-worker.js';
import { SagaWriter } from './private/saga-writer.js';
import { StepRunner } from './private/step-runner.js';

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
   * How often the worker looks for unfinished sagas (orphans of crashed replicas, delayed retries),
   * and how often `getResult` reads a saga that runs elsewhere.
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

const silent: SagaLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A durable saga orchestrator backed by the owning service's Postgres.
 *
 * Create sagas with {@link create} in the same transaction as the business row (or {@link createWith}
 * in the same statement), then `dispatch()`; the returned handle's `getResult()` waits for the
 * outcome. {@link start} runs a worker that claims unfinished sagas (`FOR UPDATE SKIP LOCKED` leases)
 * at start and every poll, so several replicas share the work and resume a crashed replica's sagas.
 *
 * The parts, one job each: `private/saga-registry.ts` (definitions by version),
 * `private/saga-worker.ts` (runs, leases and the poll), `private/step-runner.ts` (one saga's steps),
 * `private/saga-results.ts` (waiters of `getResult`), `private/saga-store.ts` (the SQL).
 *
 * @see https://microservices.io/patterns/data/saga.html
 */
export class SagaEngine {
  private readonly pool: Pool;
  private readonly leaseMs: number;
  private readonly registry = new SagaRegistry();
  private readonly worker: SagaWorker;
  private readonly results: SagaResults;

  public constructor(props: SagaEngineProps) {
    this.pool = props.pool;
    this.leaseMs = props.leaseMs ?? 5000;
    const pollIntervalMs = props.pollIntervalMs ?? 500;
    const log = props.logger ?? silent;
    const runner = new StepRunner({
      pool: props.pool,
      writer: new SagaWriter(props.pool),
      leaseMs: this.leaseMs,
      inlineBackoffMaxMs: props.inlineBackoffMaxMs ?? 2000,
      ...(props.onBoundary ? { onBoundary: props.onBoundary } : {}),
      log,
      isStopping: () => this.worker.isStopping,
      onSettled: (record) => this.results.settled(record),
    });
    this.worker = new SagaWorker({
      pool: props.pool,
      registry: this.registry,
      runner,
      leaseMs: this.leaseMs,
      pollIntervalMs,
      batchSize: props.batchSize ?? 50,
      maxConcurrent: props.maxConcurrent ?? 200,
      log,
      onRunEnded: (id) => this.results.runEnded(id),
    });
    this.results = new SagaResults(props.pool, (id) => this.worker.isRunning(id), pollIntervalMs);
  }

  /** Registers a definition version. The highest registered version of a type is used for new sagas. */
  public register<I>(definition: SagaDefinition<I>): this {
    this.registry.add(definition as SagaDefinition<unknown>);
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
    business: SqlStatement,
    type: string,
    input: I,
    id: string = randomUUID(),
  ): Promise<CreatedSaga | undefined> {
    return this.insert(pool, type, input, id, business);
  }

  /** A handle on an existing saga (created by any process): its state, and a wait for its outcome. */
  public handle(id: string): SagaHandle {
    return {
      id,
      getStatus: () => loadSaga(this.pool, id),
      getResult: (options) => this.results.wait(id, options?.timeoutMs),
    };
  }

  /** Starts the worker: claims unfinished sagas now and every `pollIntervalMs`. */
  public start(): void {
    this.worker.start();
  }

  /** Claims and runs one batch of unfinished sagas; returns how many were claimed. */
  public poll(): Promise<number> {
    return this.worker.poll();
  }

  /** Stops the worker and waits (up to `timeoutMs`) for running sagas to reach a boundary and give their lease back. */
  public stop(timeoutMs = 5000): Promise<void> {
    return this.worker.stop(timeoutMs);
  }

  /** Whether the saga `id` is running in this process now. */
  public isRunning(id: string): boolean {
    return this.worker.isRunning(id);
  }

  /** Waits until no saga is running in this process. */
  public idle(): Promise<void> {
    return this.worker.idle();
  }

  private async insert(
    db: Pool | PoolClient,
    type: string,
    input: unknown,
    id: string,
    business?: SqlStatement,
  ): Promise<CreatedSaga | undefined> {
    const def = this.registry.latest(type);
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
    return {
      ...this.handle(id),
      dispatch: () => this.worker.dispatch(record, owner, first?.name),
    };
  }
}
