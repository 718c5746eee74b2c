/**
 * `npm run bench:saga`: orders/s and time-to-terminal (p50/p99) of the order saga (order, inventory
 * and payment as separate processes) against a monolith baseline (one process, one Postgres
 * transaction per order), at the same fixed concurrency, over the same HTTP API.
 *
 * Env: BENCH_ORDERS (default 3000), BENCH_CONCURRENCY (default 50).
 */
import { createTestDatabase, deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '@aio/kit/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ORDERS = Number(process.env.BENCH_ORDERS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SKUS = Array.from({ length: 10 }, (_, i) => `BENCH-${i}`);

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  return port;
}

async function startProcess(
  script: string,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  // BENCH_PROFILE=order (or inventory, payment, monolith) writes a V8 CPU profile to /tmp/aio-saga-prof
  const profile = process.env.BENCH_PROFILE && script.includes(process.env.BENCH_PROFILE);
  const flags = profile ? ['--cpu-prof', '--cpu-prof-dir=/tmp/aio-saga-prof'] : [];
  const child = spawn(process.execPath, [...flags, join(ROOT, script)], {
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${script} did not start`);
}

async function json(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface RunResult {
  /** CPU ms per order, by process. */
  cpuMsPerOrder?: Record<string, number>;
  readonly ordersPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly approved: number;
}

/** Closed loop: each client places an order and waits until it is terminal, then places the next. */
async function load(orderUrl: string, count: number, tag: string): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  let approved = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const sku = SKUS[i % SKUS.length]!;
        const token = i % 20 === 0 ? 'tok_chargeDeclined' : 'tok_visa';
        const body = {
          customerId: `c${i % 100}`,
          currency: 'EUR',
          paymentToken: token,
          items: [{ sku, quantity: 1, unitPrice: 10 }],
        };
        const placed = await json('POST', `${orderUrl}/orders`, body, { 'idempotency-key': `${tag}-${i}` });
        if (placed.status !== 202) throw new Error(`POST /orders answered ${placed.status}`);
        let status = placed.body.status as string;
        while (status === 'PENDING') {
          status = (await json('GET', `${orderUrl}/orders/${String(placed.body.orderId)}?waitMs=10000`)).body
            .status as string;
        }
        latencies.push(performance.now() - t0);
        if (status === 'APPROVED') approved++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  return { ordersPerSecond: count / seconds, p50: pct(50), p99: pct(99), approved };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null) return;
      const exit = once(c, 'exit');
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 5000).unref();
      await exit;
    }),
  );
}

async function benchSaga(): Promise<RunResult> {
  const dbs = await Promise.all(['order', 'inv', 'pay'].map((l) => createTestDatabase(`bench_${l}`)));
  const prefix = testRedisPrefix('bench_saga');
  const children: ChildProcess[] = [];
  try {
    const inventory = await startProcess('services/inventory/dist/main.js', {
      DATABASE_URL: dbs[1]!.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    });
    children.push(inventory.child);
    const payment = await startProcess('services/payment/dist/main.js', { DATABASE_URL: dbs[2]!.url });
    children.push(payment.child);
    const order = await startProcess('services/order/dist/main.js', {
      DATABASE_URL: dbs[0]!.url,
      INVENTORY_URL: inventory.url,
      PAYMENT_URL: payment.url,
    });
    children.push(order.child);
    for (const sku of SKUS) await json('PUT', `${inventory.url}/stock/${sku}`, { available: 1_000_000 });
    await load(order.url, 300, 'warmup');
    const procs = { order: order.child, inventory: inventory.child, payment: payment.child };
    const before = await Promise.all(Object.values(procs).map((c) => cpuSeconds(c.pid)));
    const result = await load(order.url, ORDERS, 'run');
    const after = await Promise.all(Object.values(procs).map((c) => cpuSeconds(c.pid)));
    result.cpuMsPerOrder = Object.fromEntries(
      Object.keys(procs).map((name, i) => [name, ((after[i]! - before[i]!) * 1000) / ORDERS]),
    );
    return result;
  } finally {
    await stopAll(children);
    const { Redis } = await import('ioredis');
    const redis = new Redis(TEST_REDIS_URL);
    await deleteRedisKeys(redis, prefix);
    redis.disconnect();
    await Promise.all(dbs.map((d) => d.drop()));
  }
}

async function benchMonolith(): Promise<RunResult> {
  const db = await createTestDatabase('bench_monolith');
  let child: ChildProcess | undefined;
  try {
    const mono = await startProcess('lib/bench/saga-monolith.mjs', { DATABASE_URL: db.url });
    child = mono.child;
    for (const sku of SKUS) await json('PUT', `${mono.url}/stock/${sku}`, { available: 1_000_000 });
    await load(mono.url, 300, 'warmup');
    const before = await cpuSeconds(child.pid);
    const result = await load(mono.url, ORDERS, 'run');
    result.cpuMsPerOrder = { monolith: (((await cpuSeconds(child.pid)) - before) * 1000) / ORDERS };
    return result;
  } finally {
    if (child) await stopAll([child]);
    await db.drop();
  }
}

const saga = await benchSaga();
const monolith = await benchMonolith();
const row = (name: string, r: RunResult) =>
  `| ${name} | ${r.ordersPerSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.approved} |`;
const ratio = saga.ordersPerSecond / monolith.ordersPerSecond;
console.log(`saga bench: ${ORDERS} orders, concurrency ${CONCURRENCY}, ${SKUS.length} SKUs, 5% declines\n`);
console.log('| variant | orders/s | p50 ms (to terminal) | p99 ms | approved |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(row('saga (order + inventory + payment, 3 processes)', saga));
console.log(row('monolith (1 process, 1 transaction)', monolith));
const cpu = (r: RunResult) =>
  Object.entries(r.cpuMsPerOrder ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
console.log(`\nCPU ms per order: saga: ${cpu(saga)}; monolith: ${cpu(monolith)}`);
console.log(
  `\nratio saga/monolith throughput: ${ratio.toFixed(2)} (target >= 0.5) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`,
);
