import { NotReadyError } from '@aio/kit';
import type { Logger, Pool } from '@aio/kit';
import { reconcile } from './reconcile.js';
import type { StockStore } from './stock-store.js';

/**
 * Notices that Redis lost its data and rebuilds it from Postgres, with no operator involved.
 *
 * The epoch key is written with the counters by every rebuild; Redis restarted empty (or flushed)
 * has none. Scripts that meet a missing key while the epoch is gone refuse with `NO_EPOCH` (the
 * service answers 503, and the saga retries), and call {@link check}; so do a timer and `/readyz`,
 * which reports `rebuilding` until the rebuild is done. Concurrent checks share one rebuild, and
 * replicas serialize on reconcile's table lock, so the data is rebuilt once.
 */
export class RedisRecovery {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StockStore,
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** Rebuilds Redis from Postgres when the epoch key is missing; concurrent calls share one run. */
  check(): Promise<void> {
    this.running ??= this.rebuildIfLost().finally(() => (this.running = undefined));
    return this.running;
  }

  /** For `/readyz`: resolves when Redis holds its data, else starts a rebuild and throws `rebuilding`. */
  async readiness(): Promise<void> {
    if (!this.running && (await this.store.hasEpoch())) return;
    void this.check().catch(() => undefined);
    throw new NotReadyError('rebuilding');
  }

  /** Checks every `intervalMs` until the returned stop function is called. */
  start(intervalMs: number): () => Promise<void> {
    this.timer = setInterval(() => void this.check().catch(() => undefined), intervalMs);
    this.timer.unref();
    return async () => {
      clearInterval(this.timer);
      await this.running?.catch(() => undefined);
    };
  }

  private async rebuildIfLost(): Promise<void> {
    if (await this.store.hasEpoch()) return;
    try {
      const report = await reconcile(this.store, this.pool, { onlyIfEpochMissing: true });
      // A new server has an empty script cache too: load it now rather than on NOSCRIPT fallbacks.
      await this.store.loadScripts();
      if (!report.skipped) {
        this.logger.warn(
          { skus: report.skus, restoredReservations: report.restoredReservations },
          'redis had lost its data (no stock epoch): counters and reservations rebuilt from postgres',
        );
      }
    } catch (error) {
      this.logger.error({ err: error }, 'rebuilding redis from postgres failed; retrying');
      throw error;
    }
  }
}
