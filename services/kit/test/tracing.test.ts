import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, startTracing } from '../src/tracing/index.js';
import type { RunningService } from '../src/index.js';
import type { TestDatabase } from '../src/testing/index.js';

// Tracing first; everything that loads pg, fastify or http is imported after it.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'kit-tracing-test', exporters: [exporter], env: {} });
const kit = await import('../src/index.js');
const testing = await import('../src/testing/index.js');

let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
  db = await testing.createTestDatabase('kit_tracing');
  service = await kit.runService({
    name: 'kit-tracing-test',
    config: kit.parseConfig(kit.serviceConfigSchema, {
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    }),
    processHooks: false,
    routes: ({ app, pool }) => {
      app.get('/now', async () => (await pool.query('SELECT now() AS now')).rows[0]);
    },
  });
});

afterAll(async () => {
  await service?.close();
  await db?.drop();
  await tracing.shutdown();
});

describe('startTracing', () => {
  test('joins the outgoing fetch, the incoming request and its pg query in one trace', async () => {
    const traceId = await trace.getTracer('test').startActiveSpan('root', async (root) => {
      const res = await fetch(`${service.url}/now`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-trace-id')).toBe(root.spanContext().traceId);
      root.end();
      return root.spanContext().traceId;
    });
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const kinds = spans.map((s) => s.kind);
    // 0 internal (root), 1 server, 2 client (fetch and pg)
    expect(kinds).toContain(1);
    expect(spans.filter((s) => s.kind === 2).length).toBeGreaterThanOrEqual(2);
    const server = spans.find((s) => s.kind === 1)!;
    const fetchSpan = spans.find(
      (s) =>
        s.kind === 2 &&
        s.parentSpanContext?.spanId === spans.find((r) => r.name === 'root')!.spanContext().spanId,
    )!;
    expect(server.parentSpanContext?.spanId).toBe(fetchSpan.spanContext().spanId);
    expect(
      spans.some(
        (s) =>
          s.name.startsWith('pg.query') ||
          String(s.attributes['db.system'] ?? s.attributes['db.system.name']) === 'postgresql',
      ),
    ).toBe(true);
  });
});
