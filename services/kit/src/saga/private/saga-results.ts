import type { Pool } from 'pg';
import { isSettled } from '../saga-handle.js';
import type { SagaRecord } from '../saga-schema.js';
import { loadSaga } from './saga-store.js';

/** One waiting `getResult`: how to wake it, and how to look at the saga in the database. */
interface Waiter {
  wake(record: SagaRecord | undefined): void;
  check(): void;
}

/**
 * Who waits for which saga's outcome in this process. A saga that settles here wakes its waiters with
 * its record (no read, no timer); a waited-for saga that is not running here (another replica has it,
 * it waits for a delayed retry, or its run here ended without settling) is read every `pollMs` until
 * it settles.
 */
export class SagaResults {
  private readonly waiters = new Map<string, Set<Waiter>>();

  public constructor(
    private readonly pool: Pool,
    private readonly runsHere: (id: string) => boolean,
    private readonly pollMs: number,
  ) {}

  /** Wakes the waiters of a saga that just settled in this process. */
  public settled(record: SagaRecord): void {
    const set = this.waiters.get(record.id);
    if (!set) return;
    this.waiters.delete(record.id);
    for (const waiter of set) waiter.wake(record);
  }

  /** A run of saga `id` in this process ended (settled, or gave the saga back): look at it again. */
  public runEnded(id: string): void {
    for (const waiter of this.waiters.get(id) ?? []) waiter.check();
  }

  /** Resolves when saga `id` settles, or undefined after `timeoutMs` or when there is no such saga. */
  public wait(id: string, timeoutMs: number | undefined): Promise<SagaRecord | undefined> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let poller: NodeJS.Timeout | undefined;
      let done = false;
      const waiter: Waiter = {
        wake: (record) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(poller);
          const set = this.waiters.get(id);
          set?.delete(waiter);
          if (set?.size === 0) this.waiters.delete(id);
          resolve(record);
        },
        // running here: its end (settled() or runEnded()) comes back here; elsewhere: read, then poll
        check: () => void check(),
      };
      // registered before anything is read, so a saga settling in between still wakes this waiter
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(id, set);
      if (timeoutMs !== undefined) timer = setTimeout(() => waiter.wake(undefined), timeoutMs);
      let reading = false; // one read at a time, one poll chain
      const check = async (): Promise<void> => {
        if (done || reading || this.runsHere(id)) return;
        clearTimeout(poller);
        reading = true;
        const record = await loadSaga(this.pool, id).catch(() => null);
        reading = false;
        if (record === undefined) return waiter.wake(undefined); // no such saga: nothing to wait for
        if (record && isSettled(record.state)) return waiter.wake(record);
        if (!done) poller = setTimeout(() => void check(), this.pollMs);
      };
      void check();
    });
  }
}
