import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger, createServer } from '../src/index.js';
import type { FastifyInstance } from '../src/index.js';

const logger = createLogger({ name: 'kit-slow-clients-test', level: 'silent' });

let app: FastifyInstance;
let port: number;

// Short limits, so the test sees the server act on each one within a second or two.
beforeAll(async () => {
  app = createServer({
    logger,
    http: { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300, maxConnections: 20 },
  });
  app.post('/echo', async (request) => ({ got: request.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
});

/** An open socket and everything the server wrote to it until it closed it. */
function open(): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Resolves with what was received once the server closes the socket; fails the test after `ms`. */
async function closedBy(closed: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const stillOpen = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server left the socket open for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([closed, stillOpen]);
  } finally {
    clearTimeout(timer);
  }
}

describe('createServer with HttpLimits', () => {
  test('closes idle keep-alive connections after keepAliveTimeoutMs', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, open));
    for (const { socket } of clients) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const received = await Promise.all(clients.map(({ closed }) => closedBy(closed, 5000)));
    for (const text of received) expect(text).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*keep-alive/i);
  });

  test('answers slowloris headers with a 408 problem and closes the socket', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, open));
    for (const { socket } of clients) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // One more header line every 100 ms: the connection is never idle, but the headers never end.
    const drip = setInterval(() => {
      for (const { socket } of clients) if (!socket.destroyed) socket.write('X-Drip: 1\r\n');
    }, 100);
    try {
      const received = await Promise.all(clients.map(({ closed }) => closedBy(closed, 5000)));
      for (const text of received) {
        expect(text).toMatch(/^HTTP\/1\.1 408/);
        expect(text).toMatch(/content-type: application\/problem\+json/i);
      }
    } finally {
      clearInterval(drip);
    }
  });

  test('closes a connection that sends nothing at all', async () => {
    const { closed } = await open();
    await closedBy(closed, 5000);
  });

  test('answers a slow body with a 408 problem after requestTimeoutMs', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, open));
    for (const { socket } of clients) {
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":',
      );
    }
    const drip = setInterval(() => {
      for (const { socket } of clients) if (!socket.destroyed) socket.write(' ');
    }, 100);
    try {
      const received = await Promise.all(clients.map(({ closed }) => closedBy(closed, 5000)));
      for (const text of received) expect(text).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
  });

  test('accepts no more than maxConnections sockets at once', async () => {
    const clients = await Promise.all(Array.from({ length: 30 }, open));
    // Past the cap, Node closes the new socket at once, without a byte.
    const dropped = await Promise.all(
      clients.map(({ closed }) =>
        Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 150))]),
      ),
    );
    expect(dropped.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    for (const { socket } of clients) socket.destroy();
  });

  test('refuses headers longer than the request timeout allows to configure', () => {
    expect(() => createServer({ logger, http: { headersTimeoutMs: 2000, requestTimeoutMs: 1000 } })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS \(2000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(1000\)/,
    );
  });
});
