import { createServer } from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { StackScope, startStack } from '@aio/stack';
import type { SpanRecord } from '@aio/kit/tracing';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Payment alone, on its own database, through the stack launcher (tracing on: the SDK is not disabled). */
function startPayment(label: string, env: Record<string, string>) {
  return startStack({
    processes: ['payment'],
    scope: StackScope.test(label),
    env: { payment: { OTEL_SDK_DISABLED: 'false', ...env } },
  });
}

describe('payment dist/main.js', () => {
  test('joins the caller trace (http + pg spans to AIO_TRACE_FILE) and exits 0 on SIGTERM', async () => {
    expect(existsSync(main), `${main} missing: run npm run build`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'aio-trace-'));
    const traceFile = join(dir, 'spans.jsonl');
    const stack = await startPayment('payment_process', { AIO_TRACE_FILE: traceFile });
    const payment = stack.process('payment');
    try {
      const base = payment.url;
      const traceId = 'a'.repeat(31) + '1';
      const parent = 'b'.repeat(15) + '2';
      const res = await fetch(`${base}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
        body: JSON.stringify({
          orderId: 'proc-1',
          customerId: 'c',
          amount: 5,
          currency: 'EUR',
          paymentToken: 'tok_visa',
        }),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-trace-id')).toBe(traceId);
      const { code } = await payment.stop(); // SIGTERM
      expect(code, `see ${stack.logDir}`).toBe(0);
      const spans = readFileSync(traceFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as SpanRecord)
        .filter((s) => s.traceId === traceId);
      const server = spans.find((s) => s.kind === 1);
      expect(server).toMatchObject({ service: 'payment', parentSpanId: parent });
      expect(spans.some((s) => s.kind === 2 && /pg|postgres|INSERT|SELECT|BEGIN/i.test(s.name))).toBe(true);
    } finally {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exports spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const received: { path: string; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    }).listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const endpoint = `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}`;
    const stack = await startPayment('payment_otlp', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    const payment = stack.process('payment');
    try {
      expect((await fetch(`${payment.url}/payments/none`)).status).toBe(404);
      const { code } = await payment.stop(); // SIGTERM: shutdown flushes the batch
      expect(code).toBe(0);
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.map((t) => t.body).join('')).toContain('"payment"');
    } finally {
      await stack.stop();
      collector.close();
    }
  });
});
