import type { FastifyInstance, Histogram, ServiceMetrics } from '@aio/kit';
import type { Projector, SourceLag } from './projector.js';

/** Operator path of the projection's lag. */
export const HISTORY_STATUS_PATH = '/history/status';

/**
 * The lag bound: once every producer and the projector run again after a fault (a `kill -9`, a
 * producer down), `GET /me/orders` shows every committed event within this many seconds (the
 * convergence test checks it under the saga chaos load). In steady state the lag is far below it:
 * `npm run bench:history` measures its p99 (target 1 s).
 */
export const LAG_BOUND_SECONDS = 10;

/** Seconds without a successful read of a source after which it counts as stalled: the lag bound. */
export const STALL_AFTER_SECONDS = LAG_BOUND_SECONDS;

/**
 * `GET /history/status` (operator): per source, the lag in events (what its feed still had after our
 * cursor) and in seconds (age of the last event applied while more waited), and `stalledSeconds`,
 * how long since its feed last answered (growing while a producer is down or the projector is stuck).
 * The same figures are Prometheus gauges at `GET /metrics` ({@link registerHistoryMetrics}).
 */
export function registerHistoryStatus(app: FastifyInstance, projector: Projector): void {
  app.get(HISTORY_STATUS_PATH, { logLevel: 'warn' }, async () => {
    const now = Date.now();
    const sources = [...projector.lag].map(([source, l]) => {
      const stalledSeconds = Math.max(0, (now - l.lastSuccessAt) / 1000);
      return {
        source,
        lagEvents: l.events,
        lagSeconds: l.seconds,
        stalledSeconds,
        stalled: stalledSeconds > STALL_AFTER_SECONDS,
        applied: l.applied,
      };
    });
    return { sources };
  });
}

/**
 * The lag metrics per source on the service's registry: `aio_history_lag_events`,
 * `aio_history_lag_seconds`, `aio_history_stalled_seconds` (gauges, read at each scrape) and the
 * histogram `aio_history_projection_lag_seconds` (commit time minus each event's time), returned for
 * the projector to observe.
 */
export function registerHistoryMetrics(metrics: ServiceMetrics, projector: Projector): Histogram<'source'> {
  const gauge = (name: string, help: string, pick: (l: SourceLag, now: number) => number) =>
    metrics.gauge<'source'>({
      name,
      help,
      labelNames: ['source'],
      collect() {
        const now = Date.now();
        for (const [source, l] of projector.lag) this.set({ source }, pick(l, now));
      },
    });
  gauge(
    'aio_history_lag_events',
    'Events the source feed had after the projection cursor at the last read.',
    (l) => l.events,
  );
  gauge(
    'aio_history_lag_seconds',
    'Age of the last event applied while more were waiting; 0 when caught up.',
    (l) => l.seconds,
  );
  gauge('aio_history_stalled_seconds', 'Seconds since the source feed last answered.', (l, now) =>
    Math.max(0, (now - l.lastSuccessAt) / 1000),
  );
  return metrics.histogram<'source'>({
    name: 'aio_history_projection_lag_seconds',
    help: 'Time from an event being written to its projection committing.',
    labelNames: ['source'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  });
}
