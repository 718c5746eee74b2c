import { describe, expect, test } from 'vitest';
import { createLogger, createServer, metricsOf, PUBLIC_EXTENSION, ServiceMetrics } from '../src/index.js';

function app(metrics?: ServiceMetrics) {
  const server = createServer({
    logger: createLogger({ name: 'shop', level: 'silent' }),
    name: 'shop',
    ...(metrics ? { metrics } : {}),
  });
  server.get('/items/:itemId', { config: { public: true, auth: 'public' } }, async (request, reply) =>
    (request.params as { itemId: string }).itemId === 'missing' ? reply.code(404).send({}) : {},
  );
  return server;
}

/** The value of one series in the exposition text, e.g. `counter{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  test('counts and times requests by route pattern, method and status, never by raw URL', async () => {
    const server = app();
    for (const id of ['a', 'b', 'c', 'missing']) await server.inject({ url: `/items/${id}` });
    await server.inject({ url: '/no/such/path/42' });
    const res = await server.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(sample(text, 'http_server_requests_total{route="/items/:itemId",method="GET",status="200"}')).toBe(
      3,
    );
    expect(sample(text, 'http_server_requests_total{route="/items/:itemId",method="GET",status="404"}')).toBe(
      1,
    );
    expect(sample(text, 'http_server_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(
      sample(
        text,
        'http_server_request_duration_seconds_count{route="/items/:itemId",method="GET",status="200"}',
      ),
    ).toBe(3);
    expect(
      sample(
        text,
        'http_server_request_duration_seconds_bucket{le="10",route="/items/:itemId",method="GET",status="200"}',
      ),
    ).toBe(3);
    expect(text).not.toMatch(/\/items\/a|\/no\/such/);
    // prom-client's default process metrics
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  test('is an operator operation in the route contract, never public', async () => {
    const doc = (await app().inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    expect(doc.paths['/metrics']!.get).toBeDefined();
    expect(doc.paths['/metrics']!.get![PUBLIC_EXTENSION]).toBeUndefined();
  });

  test('serves what services and kit modules register on the same registry, one registry per server', async () => {
    const shared = new ServiceMetrics({ defaultMetrics: false });
    const a = app(shared);
    const b = app();
    const orders = metricsOf(a).counter({ name: 'shop_orders_total', help: 'Orders.', labelNames: ['kind'] });
    orders.inc({ kind: 'priced' }, 2);
    expect(metricsOf(a).counter({ name: 'shop_orders_total', help: 'Orders.' })).toBe(orders);
    metricsOf(a).gauge({
      name: 'shop_queue_depth',
      help: 'Depth read at scrape time.',
      async collect() {
        this.set(7);
      },
    });
    const textA = (await a.inject({ url: '/metrics' })).body;
    expect(sample(textA, 'shop_orders_total{kind="priced"}')).toBe(2);
    expect(sample(textA, 'shop_queue_depth')).toBe(7);
    expect(textA).not.toMatch(/^process_cpu/m);
    const textB = (await b.inject({ url: '/metrics' })).body;
    expect(textB).not.toMatch(/shop_orders_total/);
  });

  test('throws when a name is asked for as another metric type', () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.counter({ name: 'shop_things_total', help: 'Things.' });
    expect(() => metrics.gauge({ name: 'shop_things_total', help: 'Things.' })).toThrow(
      /metric shop_things_total is already registered as another type, got a request for a Gauge/,
    );
  });
});
