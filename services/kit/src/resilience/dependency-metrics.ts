import type { ServiceMetrics } from '../metrics/index.js';
import { knownDependencies } from './dependency.js';
import type { CircuitStateName } from './dependency.js';

/** The gauge's value per state: 0 closed (healthy), 1 open, 2 half-open (a trial in flight). */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitStateName, number>> = {
  closed: 0,
  open: 1,
  'half-open': 2,
};

/**
 * Exports every dependency wrapper of this process on the service's registry, read at scrape time:
 * `aio_dependency_circuit_state{dependency}` (0 closed, 1 open, 2 half-open),
 * `aio_dependency_in_flight{dependency}`, `aio_dependency_calls{dependency,outcome}` (succeeded,
 * failed, circuit-open, bulkhead-full, timeout, fallback) and `aio_dependency_circuit_opened{dependency}`.
 * The call counts are gauges over the wrapper's counters (monotonic, like counters; `rate()` works).
 *
 * @see https://prometheus.io/docs/practices/naming/
 */
export function registerDependencyMetrics(metrics: ServiceMetrics): void {
  const label = (d: { name: string }) => ({ dependency: d.name });
  metrics.gauge({
    name: 'aio_dependency_circuit_state',
    help: 'Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open',
    labelNames: ['dependency'],
    collect() {
      for (const d of knownDependencies()) this.set(label(d), CIRCUIT_STATE_VALUE[d.state]);
    },
  });
  metrics.gauge({
    name: 'aio_dependency_in_flight',
    help: 'Calls in flight per dependency (at most its bulkhead size)',
    labelNames: ['dependency'],
    collect() {
      for (const d of knownDependencies()) this.set(label(d), d.inFlight);
    },
  });
  metrics.gauge({
    name: 'aio_dependency_circuit_opened',
    help: 'Times the circuit of a dependency opened since the process started',
    labelNames: ['dependency'],
    collect() {
      for (const d of knownDependencies()) this.set(label(d), d.counters.opened);
    },
  });
  metrics.gauge({
    name: 'aio_dependency_calls',
    help: 'Calls per dependency and outcome since the process started',
    labelNames: ['dependency', 'outcome'],
    collect() {
      for (const d of knownDependencies()) {
        const c = d.counters;
        for (const [outcome, n] of [
          ['succeeded', c.succeeded],
          ['failed', c.failed],
          ['circuit-open', c.unavailable['circuit-open']],
          ['bulkhead-full', c.unavailable['bulkhead-full']],
          ['timeout', c.unavailable.timeout],
          ['fallback', c.fallbacks],
        ] as const)
          this.set({ dependency: d.name, outcome }, n);
      }
    },
  });
}
