import http from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import {
  FAULT_CONTROL_PATH,
  FaultProxy,
  StackScope,
  startStack,
  type ProcessEntry,
  type Stack,
} from '../src/index.js';

const FIXTURE = 'services/stack/test/fixtures/http-process.mjs';
/** `caller` calls `callee`; both serve /healthz and /env. */
const FIXTURES: readonly ProcessEntry[] = [
  { name: 'caller', role: 'service', main: FIXTURE, calls: ['callee'] },
  { name: 'callee', role: 'support', main: FIXTURE },
];

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A backend that answers 200 with the path it received, counting requests. */
async function backend(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits };
}

async function proxyTo(target: string): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ target, port: 0 });
  closers.push(() => proxy.close());
  return proxy;
}

/** Status of a GET, or the error code when the connection fails or `timeoutMs` passes. */
async function get(url: string, timeoutMs = 2000): Promise<number | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message);
  }
}

describe('FaultProxy', () => {
  test('forwards unchanged without a fault, and aborts the given share with the given status', async () => {
    const b = await backend();
    const proxy = await proxyTo(b.url);
    const res = await fetch(`${proxy.url}/reviews/SKU-1?x=1`);
    expect(await res.json()).toEqual({ path: '/reviews/SKU-1?x=1' });
    proxy.set({ kind: 'abort', percent: 100, status: 500 });
    const before = b.hits();
    const aborted = await fetch(`${proxy.url}/reviews`);
    expect(aborted.status).toBe(500);
    expect(aborted.headers.get('content-type')).toBe('application/problem+json');
    expect(b.hits()).toBe(before); // never reached the service
    proxy.set({ kind: 'abort', percent: 40 });
    const statuses: (number | string)[] = [];
    for (let batch = 0; batch < 16; batch++) {
      statuses.push(...(await Promise.all(Array.from({ length: 25 }, () => get(`${proxy.url}/x`, 15_000)))));
    }
    const share = statuses.filter((s) => s === 503).length / statuses.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.5);
    expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([]);
  });

  test('delays requests by the given time before forwarding them', async () => {
    const b = await backend();
    const proxy = await proxyTo(b.url);
    proxy.set({ kind: 'delay', ms: 300 });
    const started = Date.now();
    expect(await get(`${proxy.url}/x`)).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await get(`${proxy.url}/x`, 100)).toBe('timeout');
  });

  test('blackholes: accepts the connection and never answers, until the fault is cleared', async () => {
    const b = await backend();
    const proxy = await proxyTo(b.url);
    proxy.set({ kind: 'blackhole' });
    const pending = get(`${proxy.url}/x`, 5000);
    expect(await get(`${proxy.url}/y`, 300)).toBe('timeout');
    expect(b.hits()).toBe(0);
    proxy.set(undefined); // the held connection is closed, not answered
    expect(await pending).not.toBe(200);
    expect(await get(`${proxy.url}/z`)).toBe(200);
  });

  test('resets the connection when the service behind it is down, as a dead service would', async () => {
    const proxy = await proxyTo('http://127.0.0.1:9'); // discard port: nothing listens
    expect(await get(`${proxy.url}/x`)).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed|fetch failed/);
  });

  test('is controlled over HTTP too, and rejects a malformed fault with a 400 naming the field', async () => {
    const b = await backend();
    const proxy = await proxyTo(b.url);
    const control = `${proxy.url}${FAULT_CONTROL_PATH}`;
    const put = (body: unknown) =>
      fetch(control, {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await put({ kind: 'abort', percent: 100 })).status).toBe(204);
    expect(await (await fetch(control)).json()).toEqual({ kind: 'abort', percent: 100 });
    expect(await get(`${proxy.url}/x`)).toBe(503);
    const bad = await put({ kind: 'abort', percent: 150 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toBe(
      'percent: must be a number from 0 to 100, got 150',
    );
    expect((await put({ kind: 'drop' })).status).toBe(400);
    expect((await fetch(control, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(control)).json()).toBeNull();
    expect(await get(`${proxy.url}/x`)).toBe(200);
  });
});

describe('startStack({ faults })', () => {
  test("gives the callers the proxy's URL, and stack.fault(name) injects into the running service's traffic", async () => {
    const stack: Stack = await startStack({
      processes: ['caller'],
      extraProcesses: FIXTURES,
      faults: ['callee'],
      scope: StackScope.test('faults'),
    });
    closers.push(() => stack.stop());
    const proxy = stack.fault('callee');
    const env = (await (await fetch(`${stack.process('caller').url}/env`)).json()) as Record<string, string>;
    expect(env.CALLEE_URL).toBe(proxy.url);
    expect(proxy.url).not.toBe(stack.process('callee').url);
    expect(await get(`${env.CALLEE_URL}/healthz`)).toBe(200);
    proxy.set({ kind: 'abort', percent: 100 });
    expect(await get(`${env.CALLEE_URL}/healthz`)).toBe(503);
    expect(await get(`${stack.process('callee').url}/healthz`)).toBe(200); // the service itself is fine
    expect(() => stack.fault('caller')).toThrow(
      "process 'caller' has no fault proxy in this stack; list it in 'faults'",
    );
  });
});
