import type { Logger } from '@aio/kit';
import type { StockLedger } from './stock-ledger.js';
import type { StockStore } from './stock-store.js';

/**
 * Returns the stock of reservations past their deadline, exactly once each.
 *
 * Candidates come from the deadlines sorted set; the expire script re-checks the status and the
 * deadline atomically, so two sweepers (two replicas) racing on one reservation expire it once.
 *
 * @returns the number of reservations this call expired
 */
export async function sweepExpired(store: StockStore, ledger: StockLedger, batch = 200): Promise<number> {
  let expired = 0;
  for (;;) {
    const due = await store.dueReservations(Date.now(), batch);
    let progressed = false;
    for (const orderId of due) {
      const outcome = await store.expire(orderId);
      if (outcome.changed) {
        expired++;
        progressed = true;
        await ledger.record({ orderId, status: 'EXPIRED', items: outcome.items });
      } else if (outcome.status !== 'RESERVED') {
        // Finished or vanished records must not stay in the deadlines set.
        await store.redis.zrem(store.deadlinesKey, orderId);
        progressed = true;
      }
    }
    if (due.length < batch || !progressed) return expired;
  }
}

/** Runs {@link sweepExpired} every `intervalMs` until the returned stop function is called. */
export function startSweeper(
  store: StockStore,
  ledger: StockLedger,
  intervalMs: number,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      try {
        const n = await sweepExpired(store, ledger);
        if (n) logger.info({ expired: n }, 'reservations expired');
      } catch (error) {
        logger.warn({ err: error }, 'sweep failed');
      }
    });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
