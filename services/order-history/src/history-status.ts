import type { FastifyInstance } from '@aio/kit';
import type { Projector } from './projector.js';

/** Operator path of the projection's lag. */
export const HISTORY_STATUS_PATH = '/history/status';

/** Seconds without a successful read of a source after which it counts as stalled. */
export const STALL_AFTER_SECONDS = 10;

/**
 * `GET /history/status` (operator): per source, the lag in events (what its feed still had after our
 * cursor) and in seconds (age of the last event applied while more waited), and `stalledSeconds`,
 * how long since its feed last answered (growing while a producer is down or the projector is stuck).
 * The same figures become Prometheus gauges once the kit's metrics registry is on main.
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
