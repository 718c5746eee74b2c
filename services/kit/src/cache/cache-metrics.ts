import type { Counter, Histogram } from 'prom-client';
import type { ServiceMetrics } from '../metrics/index.js';

/** Why a value was served past its logical expiry. */
export type StaleReason = 'error' | 'timeout' | 'refreshing';

/** Why a load ran: a cold key, an expired one, an early (XFetch) refresh, or Redis out of reach. */
export type LoadReason = 'miss' | 'expired' | 'early' | 'redis-down';

/**
 * The cache's metrics on the service's registry, each labelled by `cache` (its name):
 * `aio_cache_hits_total`, `aio_cache_misses_total`, `aio_cache_stale_served_total{reason}`,
 * `aio_cache_loads_total{reason, outcome}`, `aio_cache_load_duration_seconds`,
 * `aio_cache_errors_total{kind}` (`redis` for a Redis call that failed or timed out, `unavailable`
 * for a {@link CacheUnavailableError} thrown to the caller) and `aio_cache_writes_refused_total`
 * (a load whose value was older than what the cache knew: the stale-set race, caught).
 */
export class CacheMetrics {
  readonly hits: Counter<'cache'>;
  readonly misses: Counter<'cache'>;
  readonly stale: Counter<'cache' | 'reason'>;
  readonly loads: Counter<'cache' | 'reason' | 'outcome'>;
  readonly loadDuration: Histogram<'cache'>;
  readonly errors: Counter<'cache' | 'kind'>;
  readonly refused: Counter<'cache'>;

  constructor(metrics: ServiceMetrics) {
    // Every cache counter is labelled by the cache's name first, then by its own labels.
    const counter = <L extends string>(name: string, help: string, ...labels: L[]): Counter<'cache' | L> =>
      metrics.counter({ name, help, labelNames: ['cache', ...labels] });
    this.hits = counter(
      'aio_cache_hits_total',
      'Reads answered from the cache with a fresh value (or a fresh "not found").',
    );
    this.misses = counter('aio_cache_misses_total', 'Reads that found no value in the cache.');
    this.stale = counter(
      'aio_cache_stale_served_total',
      'Reads answered with a value past its TTL, within the grace period, by reason.',
      'reason',
    );
    this.loads = counter(
      'aio_cache_loads_total',
      'Calls of the loader (the source), by reason and outcome.',
      'reason',
      'outcome',
    );
    this.loadDuration = metrics.histogram({
      name: 'aio_cache_load_duration_seconds',
      help: 'Time the loader took.',
      labelNames: ['cache'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.errors = counter(
      'aio_cache_errors_total',
      'Redis calls that failed or timed out (kind redis), and reads that failed for want of a value (kind unavailable).',
      'kind',
    );
    this.refused = counter(
      'aio_cache_writes_refused_total',
      'Loaded values not written because the cache knew a newer version or an invalidation since the read.',
    );
  }
}
