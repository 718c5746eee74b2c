import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

export type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What {@link ServiceMetrics.counter} and its siblings take: prom-client's options without `registers`. */
export type MetricOptions<C> = Omit<C, 'registers'>;

/** Options for {@link ServiceMetrics}. */
export interface ServiceMetricsProps {
  /**
   * Collect prom-client's default process metrics (CPU, memory, event-loop lag, GC, handles).
   *
   * @default true
   */
  readonly defaultMetrics?: boolean;
}

/**
 * One Prometheus registry per service, served at `GET /metrics` by the kit's server.
 *
 * Kit modules (saga engine, cache) and service code register their metrics here, never on
 * prom-client's global registry: a test process that starts several services keeps each one's figures
 * apart. `counter`, `histogram` and `gauge` return the metric already registered under the name, so a
 * module created twice on one service (two caches, a restarted worker) shares one series set
 * instead of failing with prom-client's "already registered". Names follow Prometheus conventions:
 * `snake_case`, a unit suffix (`_seconds`, `_bytes`), `_total` for counters; label values must come
 * from a bounded set (a route pattern, never a raw URL or an id).
 *
 * @see https://prometheus.io/docs/practices/naming/
 * @see https://github.com/siimon/prom-client#usage
 */
export class ServiceMetrics {
  /** The prom-client registry, for what the helpers below do not cover. */
  public readonly registry: Registry;

  constructor(props: ServiceMetricsProps = {}) {
    this.registry = new Registry();
    if (props.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter named `options.name`, registered on first use. */
  counter<L extends string = string>(options: MetricOptions<CounterConfiguration<L>>): Counter<L> {
    return (
      this.existing<Counter<L>>(options.name, Counter) ??
      new Counter({ ...options, registers: [this.registry] })
    );
  }

  /** A histogram named `options.name`, registered on first use. */
  histogram<L extends string = string>(options: MetricOptions<HistogramConfiguration<L>>): Histogram<L> {
    return (
      this.existing<Histogram<L>>(options.name, Histogram) ??
      new Histogram({ ...options, registers: [this.registry] })
    );
  }

  /** A gauge named `options.name`, registered on first use; `collect()` may be async (read a table). */
  gauge<L extends string = string>(options: MetricOptions<GaugeConfiguration<L>>): Gauge<L> {
    return (
      this.existing<Gauge<L>>(options.name, Gauge) ?? new Gauge({ ...options, registers: [this.registry] })
    );
  }

  /** The exposition text, as `GET /metrics` serves it. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private existing<M>(name: string, kind: abstract new (...args: never[]) => unknown): M | undefined {
    const metric = this.registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    if (!(metric instanceof kind)) {
      throw new Error(
        `metric ${name} is already registered as another type, got a request for a ${kind.name}`,
      );
    }
    return metric as M;
  }
}
