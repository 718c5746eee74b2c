import type { Pool } from 'pg';
import { isSettled } from '../saga-handle.js';
import type { SagaRecord } from '../saga-schema.js';
import { loadSaga } from './saga-store.js';

type Wake = (record: SagaRecord | undefined) => void;

/**
 * Who waits for which saga's outcome in this process. A saga that settles here wakes its waiters with
 * its record (no read); a waited-for saga that is not running here (another replica has it, or it is
 * waiting for a delayed retry) is read every `pollMs` until it settles.
 */
export class SagaResults {
  private readonly waiters = new Map<string, Set<Wake>>();

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
    for (const wake of set) wake(record);
  }

  /** Resolves when saga `id` settles, or undefined after `timeoutMs` or when there is no such saga. */
  public wait(id: string, timeoutMs: number | undefined): Promise<SagaRecord | undefined> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let poller: NodeJS.Timeout | undefined;
      let done = false;
      const wake: Wake = (record) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(poller);
        const set = this.waiters.get(id);
        set?.delete(wake);
        if (set?.size === 0) this.waiters.delete(id);
        resolve(record);
      };
      // registered before anything is read, so a saga settling in between still wakes this waiter
      const set = this.waiters.get(id) ?? new Set<Wake>();
      set.add(wake);
      this.waiters.set(id, set);
      if (timeoutMs !== undefined) timer = setTimeout(() => wake(undefined), timeoutMs);
      const check = async (): Promise<void> => {
        if (done) return;
        if (!this.runsHere(id)) {
          const record = await loadSaga(this.pool, id).catch(() => null);
          if (record === undefined) return wake(undefined); // no such saga: nothing to wait for
          if (record && isSettled(record.state)) return wake(record);
        }
        if (!done) poller = setTimeout(() => void check(), this.pollMs);
      };
      void check();
    });
  }
}
