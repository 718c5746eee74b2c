import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { SagaLogger } from '../saga-engine.js';
import type { SagaRecord } from '../saga-schema.js';
import { SimulatedCrash } from '../step-failure.js';
import type { SagaRegistry } from './saga-registry.js';
import { claimSagas } from './saga-store.js';
import type { StepRunner } from './step-runner.js';

/** What a {@link SagaWorker} needs from the engine. */
export interface SagaWorkerProps {
  readonly pool: Pool;
  readonly registry: SagaRegistry;
  readonly runner: StepRunner;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly maxConcurrent: number;
  readonly log: SagaLogger;
  /** Called whenever a run of a saga in this process ends, settled or not. */
  readonly onRunEnded: (id: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The sagas this process runs, and the poll that claims more: unfinished sagas whose lease expired
 * (a crashed replica's) or whose delayed retry is due, with `FOR UPDATE SKIP LOCKED`, never more than
 * the free slots. Every run holds a lease; a run that loses it stops at its next boundary.
 */
export class SagaWorker {
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  public constructor(private readonly props: SagaWorkerProps) {}

  /** True once {@link stop} was called: runs give their sagas back at the next boundary. */
  public get isStopping(): boolean {
    return this.stopping;
  }

  /** Claims unfinished sagas now and every `pollIntervalMs`. */
  public start(): void {
    this.stopping = false;
    const tick = async () => {
      try {
        await this.poll();
      } catch (err) {
        this.props.log.warn({ err }, 'saga poll failed');
      }
      if (!this.stopping) this.timer = setTimeout(tick, this.props.pollIntervalMs);
    };
    void tick();
  }

  /** Claims and runs one batch; returns how many sagas were claimed. */
  public async poll(): Promise<number> {
    const kinds = this.props.registry.kinds();
    if (kinds.length === 0) return 0;
    const free = Math.min(this.props.batchSize, this.props.maxConcurrent - this.running.size);
    if (free <= 0) return 0;
    const owner = randomUUID();
    const claimed = await claimSagas(this.props.pool, kinds, owner, this.props.leaseMs, free);
    for (const record of claimed) this.launch(record, owner);
    return claimed.length;
  }

  /**
   * Runs a saga this process just created (and leased to `owner`), after the current I/O callback so
   * the caller's reply goes out before the first participant call.
   */
  public dispatch(record: SagaRecord, owner: string, preStarted: string | undefined): void {
    const queued = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.launch(record, owner, preStarted);
        resolve();
      }),
    );
    this.running.set(record.id, queued); // counted by idle() and maxConcurrent until launch replaces it
  }

  /** Stops polling and waits (up to `timeoutMs`) for runs to reach a boundary and give their lease back. */
  public async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([Promise.allSettled([...this.running.values()]), sleep(timeoutMs)]);
  }

  /** Whether the saga `id` is running in this process now. */
  public isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Waits until no saga is running in this process. */
  public async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private launch(record: SagaRecord, owner: string, preStarted?: string): void {
    const def = this.props.registry.get(record.type, record.version);
    if (!def) {
      this.running.delete(record.id);
      this.props.onRunEnded(record.id);
      return; // another replica with this version will claim it once the lease expires
    }
    const run = this.props.runner
      .run(def, record, owner, preStarted)
      .catch((err: unknown) => {
        if (err instanceof SimulatedCrash) return;
        this.props.log.error(
          { err, sagaId: record.id },
          'saga run aborted; another worker resumes it after the lease',
        );
      })
      .finally(() => {
        if (this.running.get(record.id) !== run) return;
        this.running.delete(record.id);
        this.props.onRunEnded(record.id);
      });
    this.running.set(record.id, run);
  }
}
