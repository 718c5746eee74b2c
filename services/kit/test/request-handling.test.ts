import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createLogger,
  createServer,
  idempotencyHeadersSchema,
  NotReadyError,
  quantitySchema,
  serverState,
  skuSchema,
  toMinorUnits,
} from '../src/index.js';
import type { FastifyInstance } from '../src/index.js';

const logger = createLogger({ name: 'kit-request-handling-test', level: 'silent' });

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = createServer({
    logger,
    readinessChecks: {
      db: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5439')),
      redis: () => Promise.reject(new NotReadyError('rebuilding')),
    },
  });
  app.put<{ Body: { available: number } }>(
    '/stock/:sku',
    {
      schema: {
        params: { type: 'object', properties: { sku: skuSchema } },
        body: {
          type: 'object',
          required: ['available'],
          additionalProperties: false,
          properties: { available: { type: 'integer', minimum: 0 } },
        },
      },
    },
    async (request) => ({ available: request.body.available }),
  );
  app.get<{ Querystring: { n?: number; s?: string } }>(
    '/query',
    { schema: { querystring: { type: 'object', properties: { n: quantitySchema } } } },
    async (request) => ({ n: request.query.n, s: request.query.s }),
  );
  app.post('/bodiless', { schema: { headers: idempotencyHeadersSchema } }, async (request) => ({
    body: request.body ?? null,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
});

const put = (available: unknown) =>
  app.inject({
    method: 'PUT',
    url: '/stock/A',
    payload: JSON.stringify({ available }),
    headers: { 'content-type': 'application/json' },
  });

/** Sends raw bytes and returns the raw response (for requests fetch refuses to make). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) socket.end();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('createServer request handling', () => {
  test('refuses body values of the wrong type instead of coercing them', async () => {
    for (const value of [null, true, '7', [5], 1.5, -1]) {
      const res = await put(value);
      expect(res.statusCode, JSON.stringify(value)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()['invalid-params'][0].name).toBe('available');
    }
    expect((await put(7)).json()).toEqual({ available: 7 });
  });

  test('refuses unknown body fields of a closed schema, naming them', async () => {
    const res = await app.inject({ method: 'PUT', url: '/stock/A', payload: { available: 1, extra: 2 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()['invalid-params']).toEqual([{ name: 'extra', reason: 'is not allowed' }]);
  });

  test('coerces query strings only to the declared types', async () => {
    expect((await app.inject({ url: '/query?n=25&s=25' })).json()).toEqual({ n: 25, s: '25' });
    const bad = await app.inject({ url: '/query?n=abc' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()['invalid-params'][0].name).toBe('n');
  });

  test('accepts a POST with content-type application/json and an empty body where none is needed', async () => {
    for (const payload of ['', '  ']) {
      const res = await app.inject({
        method: 'POST',
        url: '/bodiless',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ body: null });
    }
    // A route that needs a body still says so.
    const res = await app.inject({
      method: 'PUT',
      url: '/stock/A',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/body/);
  });

  test('refuses an Idempotency-Key over 255 characters or with control characters, naming the header', async () => {
    for (const key of ['k'.repeat(4800), 'a b', 'k'.repeat(256)]) {
      const res = await app.inject({ method: 'POST', url: '/bodiless', headers: { 'idempotency-key': key } });
      expect(res.statusCode).toBe(400);
      expect(res.json()['invalid-params'][0].name).toBe('idempotency-key');
    }
    const ok = await app.inject({
      method: 'POST',
      url: '/bodiless',
      headers: { 'idempotency-key': 'k'.repeat(255) },
    });
    expect(ok.statusCode).toBe(200);
  });

  test('answers a malformed percent-encoding and malformed JSON with problem documents', async () => {
    const badUrl = await fetch(`${url}/stock/%E0%A4%A`);
    expect(badUrl.status).toBe(400);
    expect(badUrl.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await badUrl.json()) as { detail: string }).detail).toBe(
      'the url has a malformed percent-encoding',
    );
    const badJson = await fetch(`${url}/stock/A`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"available":',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const media = await fetch(`${url}/stock/A`, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<x/>',
    });
    expect(media.status).toBe(415);
    expect(media.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  test('answers oversized headers and malformed HTTP with problem documents', async () => {
    const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    expect(big).toMatch(/content-type: application\/problem\+json/i);
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(garbage).toMatch(/"status":400/);
  });

  test('answers a body over the limit and requests during the drain with problem documents', async () => {
    const small = createServer({ logger, bodyLimit: 64 });
    small.post('/echo', async (request) => ({ got: request.body }));
    const big = await small.inject({ method: 'POST', url: '/echo', payload: { text: 'x'.repeat(100) } });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
    serverState(small).draining = true;
    const draining = await small.inject({ method: 'POST', url: '/echo', payload: {} });
    expect(draining.statusCode).toBe(503);
    expect(draining.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(draining.json()).toMatchObject({ detail: 'shutting down' });
    await small.close();
  });

  test('/readyz names each dependency and its state, never an address', async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|5439/);
    expect(JSON.parse(text)).toMatchObject({ checks: { db: 'failed', redis: 'rebuilding' } });
  });
});

describe('toMinorUnits', () => {
  test('takes as many decimals as the currency has', () => {
    expect(toMinorUnits(49.99, 'USD', 'amount')).toBe(4999);
    expect(toMinorUnits(0.01, 'EUR', 'amount')).toBe(1);
    expect(toMinorUnits(1000, 'JPY', 'amount')).toBe(1000);
    expect(toMinorUnits(1.234, 'KWD', 'amount')).toBe(1234);
  });

  test('throws a 400 problem naming the field for more decimals or an unknown currency', () => {
    expect(() => toMinorUnits(0.004, 'USD', 'items[0].unitPrice')).toThrow(
      'items[0].unitPrice: must have at most 2 decimals for USD, got 0.004',
    );
    expect(() => toMinorUnits(10.5, 'JPY', 'amount')).toThrow('amount: must have at most 0 decimals for JPY');
    expect(() => toMinorUnits(1, 'ZZZ', 'amount')).toThrow('currency: must be an ISO 4217 currency code');
  });
});
