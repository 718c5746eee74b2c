import type { Pool } from 'pg';
import type { SagaRecord } from '../saga-schema.js';
import { saveOne, saveSagas, type SagaSave } from './saga-store.js';

interface Pending extends SagaSave {
  resolve(saved: boolean): void;
  reject(error: unknown): void;
}

/**
 * Group commit for saga saves. The first save goes out at once; saves asked for while a write is in
 * flight wait for it and then go out together, as ONE statement and one commit ({@link saveSagas}).
 * Alone, a save costs what it did; under load, N sagas at a boundary share one round trip instead of
 * N. Each save still resolves only after its own row is committed, so "recorded before the call"
 * holds exactly as with `saveSaga`.
 */
export class SagaWriter {
  private queue: Pending[] = [];
  private busy = false;

  /**
   * @param pool the saga tables' pool
   * @param maxBatch saves per statement at most
   */
  public constructor(
    private readonly pool: Pool,
    private readonly maxBatch = 200,
  ) {}

  /** Saves the saga's state as it is now (fenced by `leaseOwner`); resolves false when the lease was lost. */
  public save(record: SagaRecord, leaseOwner: string, leaseMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({
        id: record.id,
        leaseOwner,
        state: record.state,
        steps: JSON.stringify(record.steps),
        failure: record.failure && JSON.stringify(record.failure),
        leaseMs,
        resolve,
        reject,
      });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        if (batch.length === 1) {
          await this.one(batch[0]!);
          continue;
        }
        try {
          const saved = await saveSagas(this.pool, batch);
          for (const p of batch) p.resolve(saved.has(p.id));
        } catch {
          // one bad row must not fail the others: save them one by one, each with its own outcome
          await Promise.all(batch.map((p) => this.one(p)));
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** Up to `maxBatch` queued saves, at most one per saga (a saga waits for its save, but be safe). */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const ids = new Set<string>();
    const rest: Pending[] = [];
    for (const p of this.queue) {
      if (batch.length < this.maxBatch && !ids.has(p.id)) {
        ids.add(p.id);
        batch.push(p);
      } else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async one(p: Pending): Promise<void> {
    try {
      p.resolve(await saveOne(this.pool, p));
    } catch (error) {
      p.reject(error);
    }
  }
}
