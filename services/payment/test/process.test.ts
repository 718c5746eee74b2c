import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createTestDatabase, freePort, waitForHealthy } from '@aio/kit/testing';
import type { SpanRecord } from '@aio/kit/tracing';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('payment dist/main.js', () => {
  test('joins the caller trace (http + pg spans to AIO_TRACE_FILE) and exits 0 on SIGTERM', async () => {
    expect(existsSync(main), `${main} missing: run npm run build`).toBe(true);
    const db = await createTestDatabase('payment_process');
    const dir = mkdtempSync(join(tmpdir(), 'aio-trace-'));
    const traceFile = join(dir, 'spans.jsonl');
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        AIO_TRACE_FILE: traceFile,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForHealthy(base, { child, name: 'payment' });
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
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stderr).toBe(0);
      const spans = readFileSync(traceFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as SpanRecord)
        .filter((s) => s.traceId === traceId);
      const server = spans.find((s) => s.kind === 1);
      expect(server).toMatchObject({ service: 'payment', parentSpanId: parent });
      expect(spans.some((s) => s.kind === 2 && /pg|postgres|INSERT|SELECT|BEGIN/i.test(s.name))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
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
    const db = await createTestDatabase('payment_otlp');
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      },
      stdio: 'ignore',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForHealthy(base, { child, name: 'payment' });
      expect((await fetch(`${base}/payments/none`)).status).toBe(404);
      child.kill('SIGTERM'); // shutdown flushes the batch
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      const traces = received.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.map((t) => t.body).join('')).toContain('"payment"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      collector.close();
      await db.drop();
    }
  });
});
