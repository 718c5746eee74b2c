import type { FastifyInstance } from 'fastify';
import type { ServiceMetrics } from './service-metrics.js';

/** The `route` label of a request no route matched (404s of unknown paths, scanners). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Buckets of `http_server_request_duration_seconds`, in seconds: fine below 10 ms, where the
 * services' p99 lives, up to the 10 s of a long-poll.
 */
export const HTTP_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/**
 * Counts every response in `http_server_requests_total` and times it in
 * `http_server_request_duration_seconds`, both by `route`, `method` and `status`.
 *
 * `route` is the route's pattern (`/orders/:orderId`), never the raw URL, so the number of series is
 * bounded by the routes the service declares; a request that matched none is `unmatched`. The time is
 * Fastify's `reply.elapsedTime`: from the request's arrival to the end of the response.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/http/http-metrics/#metric-httpserverrequestduration
 * @see https://fastify.dev/docs/latest/Reference/Reply/#elapsedtime
 */
export function instrumentHttp(app: FastifyInstance, metrics: ServiceMetrics): void {
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = metrics.counter({
    name: 'http_server_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code.',
    labelNames,
  });
  const duration = metrics.histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Time from the request arriving to the response ending, by route pattern, method and status code.',
    labelNames,
    buckets: [...HTTP_DURATION_BUCKETS],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      method: request.method,
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
}
