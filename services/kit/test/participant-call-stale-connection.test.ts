import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { participantCall, StepFailure } from '../src/index.js';
import { replaysAfterStaleConnection } from '../src/saga/participant-call.js';
import { freePort } from '../src/testing/index.js';

/**
 * The kit's HTTP client against a callee replaced on the same port: the old process stops listening,
 * a new one starts, and the old one is killed (`kill -9`) by the next request on the pooled
 * keep-alive connection, before it answers. An idempotent request is then sent once more on a new
 * connection and reaches the new process; nothing else is replayed. (A socket whose FIN had already
 * arrived is not the case: Node's agent destroys a free socket with a pending read before reusing it.)
 */

const SERVER = fileURLToPath(new URL('./fixtures/restartable-server.mjs', import.meta.url));
/** Far above what a local call takes, even on the loaded shared machine: no test waits on it. */
const TIMEOUT_MS = 30_000;
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

/** The next line the child prints. */
async function line(child: ChildProcess): Promise<string> {
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return chunk.toString().trim();
}

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  expect(await line(child)).toBe('ready');
  return child;
}

/** Starts the new process on the old one's port; the old one dies on its next request. */
async function replace(
  old: ChildProcess,
  port: number,
): Promise<{ next: ChildProcess; oldExit: Promise<unknown[]> }> {
  const oldExit = once(old, 'exit');
  old.stdin!.write('replace\n');
  expect(await line(old)).toBe('replacing');
  return { next: await startServer(port), oldExit };
}

const get = (base: string, path: string) =>
  participantCall({ url: `${base}${path}`, method: 'GET', participant: 'callee', timeoutMs: TIMEOUT_MS });

describe('participantCall after the callee was replaced', () => {
  test('sends an idempotent request lost with the old process once more, to the new one', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const old = await startServer(port);
    expect((await get(base, '/pid')).body.pid).toBe(old.pid);
    const { next, oldExit } = await replace(old, port);
    const reply = await get(base, '/pid'); // no retry here: the client's one replay is the only one
    expect(reply.body.pid).toBe(next.pid);
    expect(await oldExit).toEqual([null, 'SIGKILL']); // the first send did meet the old process
    expect((await get(base, '/requests')).body).toEqual({ GET: 1 });
  });

  test('rejects a POST lost with the old process, and the new one never sees it', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const old = await startServer(port);
    const created = await participantCall({ url: `${base}/pid`, body: { n: 1 }, timeoutMs: TIMEOUT_MS });
    expect(created.body.pid).toBe(old.pid);
    const { oldExit } = await replace(old, port);
    const failed = participantCall({ url: `${base}/pid`, body: { n: 2 }, timeoutMs: TIMEOUT_MS });
    await expect(failed).rejects.toBeInstanceOf(StepFailure);
    await expect(failed).rejects.toMatchObject({ kind: 'RETRYABLE' });
    expect(await oldExit).toEqual([null, 'SIGKILL']);
    expect((await get(base, '/requests')).body).toEqual({});
  });
});

/** A server of raw sockets, `answer` deciding what the nth request on a connection gets. */
async function rawServer(answer: (socket: net.Socket, nth: number) => void) {
  let requests = 0;
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let nth = 0;
    socket.on('data', (chunk) => {
      if (!chunk.includes('\r\n\r\n')) return; // the tests' GETs fit in one packet on loopback
      requests++;
      answer(socket, ++nth);
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { base, seen: () => ({ requests, connections }), close: () => server.close() };
}

const OK =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}';

describe('participantCall replays nothing else', () => {
  test('rejects a reset on a fresh connection without sending again', async () => {
    const server = await rawServer((socket) => socket.resetAndDestroy());
    try {
      await expect(get(server.base, '/pid')).rejects.toMatchObject({ kind: 'RETRYABLE' });
      expect(server.seen()).toEqual({ requests: 1, connections: 1 });
    } finally {
      server.close();
    }
  });

  test('rejects a reset on a reused connection after the response began, without sending again', async () => {
    const server = await rawServer((socket, nth) => {
      if (nth === 1) socket.write(OK);
      else socket.write('HTTP/1.1 200 OK\r\ncontent-', () => socket.resetAndDestroy());
    });
    try {
      await get(server.base, '/pid');
      await expect(get(server.base, '/pid')).rejects.toMatchObject({ kind: 'RETRYABLE' });
      expect(server.seen()).toEqual({ requests: 2, connections: 1 });
    } finally {
      server.close();
    }
  });
});

describe('replaysAfterStaleConnection', () => {
  const stale = { method: 'GET', reusedSocket: true, code: 'ECONNRESET', responseBytes: 0, nth: 1 };

  test('replays the first send of an idempotent method lost on a reused socket before any response byte', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'get']) {
      expect(replaysAfterStaleConnection({ ...stale, method }), method).toBe(true);
    }
    expect(replaysAfterStaleConnection({ ...stale, code: 'EPIPE' })).toBe(true);
  });

  test('replays nothing else', () => {
    for (const change of [
      { method: 'POST' },
      { method: 'PATCH' },
      { reusedSocket: false },
      { responseBytes: 1 },
      { nth: 2 },
      { code: 'ECONNREFUSED' },
      { code: 'ABORT_ERR' },
      { code: undefined },
    ]) {
      expect(replaysAfterStaleConnection({ ...stale, ...change }), JSON.stringify(change)).toBe(false);
    }
  });
});
