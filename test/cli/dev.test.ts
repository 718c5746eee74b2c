import {
  deleteRedisKeys,
  freePort,
  freePortBlock,
  portIsFree,
  randomSuffix,
  TEST_REDIS_URL,
} from '@aio/kit/testing';
import { PLATFORM_PROCESSES } from '@aio/stack';
import { Redis } from 'ioredis';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { runCli } from '../../cli/program.js';

/** `aio dev` gives each process of the table one fixed port, from --base-port on. */
const PLATFORM_PROCESS_COUNT = PLATFORM_PROCESSES.length;
const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'lib/bin/aio.js');
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const dbPrefix = `aio_test_dev_${randomSuffix()}`;
const redisPrefix = `test:dev:${randomSuffix()}:`;
const outside = `${redisPrefix.slice(0, -1)}-other:key`; // shares the text, not the prefix

async function admin<T>(run: (client: pg.Client) => Promise<T>, db = ADMIN): Promise<T> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await admin(async (c) => {
    for (const s of ['order', 'inventory', 'payment', 'monolith', 'review', 'catalog', 'order_history'])
      await c.query(`DROP DATABASE IF EXISTS ${dbPrefix}_${s} WITH (FORCE)`);
  });
  const redis = new Redis(TEST_REDIS_URL);
  await deleteRedisKeys(redis, redisPrefix);
  await redis.del(outside);
  redis.disconnect();
});

describe('aio dev', () => {
  test('--reset --json drops stale state, prints the URLs, serves an order, takes aio chaos --local faults and stops on Ctrl-C', async () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
    // stale state: a database with a leftover table, and Redis counters that survived a dropped database
    await admin((c) => c.query(`CREATE DATABASE ${dbPrefix}_inventory`));
    await admin(
      (c) => c.query('CREATE TABLE leftover (x int)'),
      ADMIN.replace(/postgres$/, `${dbPrefix}_inventory`),
    );
    const redis = new Redis(TEST_REDIS_URL);
    await redis.hset(`${redisPrefix}inventory:{stock}:sku:DEMO-MUG`, { available: 3, reserved: 0, sold: 0 });
    await redis.set(outside, 'kept');

    // one fixed port per process of the table, below the kernel's ephemeral range (freePortBlock):
    // a port from that range can be taken by another test's socket between this check and the bind
    const base = await freePortBlock(PLATFORM_PROCESS_COUNT);
    const args = ['--db-prefix', dbPrefix, '--redis-prefix', redisPrefix];
    const stateDir = mkdtempSync(join(tmpdir(), 'aio-dev-state-'));
    const stateEnv = { ...process.env, AIO_DEV_STATE_DIR: stateDir };
    const child = spawn(
      process.execPath,
      [CLI, 'dev', '--reset', '--json', '--base-port', String(base), '--faults', 'review', ...args],
      {
        env: { ...stateEnv, OTEL_SDK_DISABLED: 'true', LOG_LEVEL: 'warn', DB_POOL_MAX: '3' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit');
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('\n')) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`aio dev did not come up:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const ready = JSON.parse(stdout) as { faults: Record<string, string> };
    expect(ready.faults).toEqual({ review: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(JSON.parse(stdout)).toEqual({
      faults: ready.faults,
      gateway: url(base + 4),
      monolith: url(base + 3),
      services: {
        order: url(base),
        inventory: url(base + 1),
        payment: url(base + 2),
        review: url(base + 6),
        catalog: url(base + 7),
        'order-history': url(base + 8),
      },
    });
    expect(stderr).toContain(`dropped database ${dbPrefix}_inventory`);
    expect(stderr).toContain(`deleted 1 Redis key under ${redisPrefix}`);
    expect(stderr).toContain(`created database ${dbPrefix}_order`);
    expect(await redis.get(outside)).toBe('kept'); // never beyond the stack's prefix
    const leftover = await admin(
      (c) => c.query("SELECT to_regclass('leftover') AS t"),
      ADMIN.replace(/postgres$/, `${dbPrefix}_inventory`),
    );
    expect(leftover.rows[0].t).toBeNull();
    redis.disconnect();

    const stock = (await (await fetch(`${url(base + 1)}/stock/DEMO-MUG`)).json()) as { available: number };
    expect(stock.available).toBe(50); // seeded afresh, not the stale 3
    // signed in as a customer with the running stack's issuer, as a user would (aio dev token)
    const token = spawnSync(
      process.execPath,
      [join(ROOT, 'lib/bin/aio.js'), 'dev', 'token', '--customer', 'dev', '--base-port', String(base)],
      { encoding: 'utf8' },
    );
    expect(token.status, token.stderr).toBe(0);
    const placed = await fetch(`${url(base)}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        prefer: 'wait=10',
        authorization: `Bearer ${token.stdout.trim()}`,
      },
      body: JSON.stringify({
        customerId: 'dev',
        currency: 'EUR',
        paymentToken: 'tok_visa',
        items: [{ sku: 'DEMO-MUG', quantity: 1, unitPrice: 9.5 }],
      }),
    });
    expect(((await placed.json()) as { status: string }).status).toBe('APPROVED');
    // through the gateway (the live platform.yaml's routes, whatever their weights): a public read
    // reaches a handler on one side, operator paths are closed
    const viaGateway = await fetch(`${url(base + 4)}/api/stock/DEMO-MUG`);
    expect(viaGateway.status).toBeLessThan(500);
    expect(['inventory', 'monolith']).toContain(viaGateway.headers.get('x-served-by'));
    expect((await fetch(`${url(base + 4)}/unmatched`)).headers.get('x-served-by')).toBe('monolith');
    // the catalog has the whole of /api/products (the monolith has no products), with prices seeded
    const product = await fetch(`${url(base + 4)}/api/products/DEMO-MUG`);
    expect([product.status, product.headers.get('x-served-by')]).toEqual([200, 'catalog']);
    expect(await product.json()).toMatchObject({ priceMinor: 950, currency: 'EUR' });
    expect((await fetch(`${url(base + 4)}/api/stock/DEMO-MUG`, { method: 'PUT' })).status).toBe(404);

    // aio chaos --local drives review's fault proxy: the gateway's review upstream is the proxy
    const chaos = (...a: string[]) =>
      spawnSync(process.execPath, [CLI, 'chaos', 'review', '--local', '--base-port', String(base), ...a], {
        env: stateEnv,
        encoding: 'utf8',
      });
    const abort = chaos('--abort', '100%');
    expect(abort.status, abort.stderr).toBe(0);
    expect(abort.stdout).toContain(
      `review: abort 100 % with 503 (aio dev on base port ${base}, proxy ${ready.faults.review})`,
    );
    // /api/reviews is a customer route at the edge: signed in, the fault is what answers
    const signedIn = { authorization: `Bearer ${token.stdout.trim()}` };
    const reviews = () => fetch(`${url(base + 4)}/api/reviews/DEMO-MUG`, { headers: signedIn });
    expect((await reviews()).status).toBe(503);
    // the product page (public) still answers, with the reviews marked unavailable
    const page = await fetch(`${url(base + 4)}/api/products/DEMO-MUG`);
    expect([page.status, ((await page.json()) as { reviews?: unknown }).reviews]).toEqual([
      200,
      { status: 'unavailable' },
    ]);
    expect(chaos('--clear').status).toBe(0);
    expect((await reviews()).status).toBeLessThan(500);

    child.kill('SIGINT');
    const [code] = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('stopped');
    expect(existsSync(join(stateDir, `${base}.json`))).toBe(false); // aio chaos --local finds no stack now
    rmSync(stateDir, { recursive: true, force: true });
    // every process of the table let go of its port (from --base-port on, in the table's order)
    expect(
      await Promise.all(Array.from({ length: PLATFORM_PROCESS_COUNT }, (_, i) => portIsFree(base + i))),
    ).toEqual(Array(PLATFORM_PROCESS_COUNT).fill(true));

    // the README's reconcile runs on the same stack's database and prefix
    const reconcile = spawnSync(process.execPath, [CLI, 'dev', 'reconcile', '--dry-run', ...args], {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
      encoding: 'utf8',
    });
    expect(reconcile.status, reconcile.stderr).toBe(0);
    expect(JSON.parse(reconcile.stdout)).toMatchObject({ skus: 3, drift: [], applied: false });
  }, 120_000);

  test('names a PostgreSQL or Redis that is down and exits 1, saying what to do', async () => {
    const closed = await freePort();
    for (const [flag, value, message] of [
      [
        '--pg-url',
        `postgres://postgres@127.0.0.1:${closed}`,
        `PostgreSQL at 127.0.0.1:${closed} is not reachable`,
      ],
      ['--redis-url', `redis://127.0.0.1:${closed}`, `Redis at 127.0.0.1:${closed} is not reachable`],
    ] as const) {
      const io = memoryIo();
      const code = await runCli(['node', 'aio', 'dev', flag, value, '--db-prefix', dbPrefix], io);
      expect(code).toBe(1);
      const [line, ...rest] = io.stderr;
      expect(line).toContain(`error: ${message} (ECONNREFUSED)`);
      expect(line).toContain('bash .ci/run starts PostgreSQL and Redis');
      expect(line).toContain('--pg-url / --redis-url');
      expect(rest).toEqual([]); // no stack trace, nothing started
    }
  });

  test('a --base-port range with a port in use exits 1 naming the port and its process, and starts nothing', async () => {
    const base = await freePortBlock(PLATFORM_PROCESS_COUNT);
    const taken = 3;
    const holder = net.createServer().listen(base + taken, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const io = memoryIo();
      const code = await runCli(
        [
          'node',
          'aio',
          'dev',
          '--base-port',
          String(base),
          '--db-prefix',
          dbPrefix,
          '--redis-prefix',
          redisPrefix,
        ],
        io,
      );
      expect(code).toBe(1);
      const [line, ...rest] = io.stderr;
      expect(line).toBe(
        `error: port ${base + taken} (${PLATFORM_PROCESSES[taken]!.name}) is in use; stop what holds it or pass --base-port`,
      );
      expect(rest).toEqual([]); // no stack trace
      // nothing was started: the other ports of the range are still free
      const others = Array.from({ length: PLATFORM_PROCESS_COUNT }, (_, i) => base + i).filter(
        (p) => p !== base + taken,
      );
      expect(await Promise.all(others.map(portIsFree))).toEqual(others.map(() => true));
    } finally {
      holder.close();
      await once(holder, 'close');
    }
  });

  test('rejects an empty --redis-prefix with a usage error (it bounds what --reset deletes)', async () => {
    const io = memoryIo();
    expect(await runCli(['node', 'aio', 'dev', '--reset', '--redis-prefix', ''], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--redis-prefix: must not be empty');
  });
});
