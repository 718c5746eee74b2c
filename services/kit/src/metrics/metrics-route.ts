import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from './service-metrics.js';

/** Where every kit service serves its Prometheus metrics. An operator endpoint: never routed at the edge. */
export const METRICS_PATH = '/metrics';

/**
 * Adds `GET /metrics`: the registry's exposition text (`text/plain; version=0.0.4`).
 *
 * The route has no `config.public`, so the contract lists it as an operator operation: the gateway
 * never routes it, and the route gate refuses a platform.yaml route whose prefix would expose it.
 * Prometheus scrapes it inside the cluster.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.get(METRICS_PATH, { logLevel: 'warn' }, async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
