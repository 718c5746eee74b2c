/**
 * `npm run bench:saga`: orders/s and time-to-terminal (p50/p99) of the order saga (order, inventory
 * and payment as separate processes) against a monolith baseline (one process, one Postgres
 * transaction per order), at the same fixed concurrency, over the same HTTP API. The saga is run twice:
 * with a client that sends `Prefer: wait=10` on the POST, and with one that POSTs and then long-polls.
 * Besides throughput it prints the CPU each process on the machine spent per order (services,
 * Postgres backends, Redis, the load generator): on 2 shared cores that is what decides throughput.
 *
 * The priced saga (order reads each line's price from the catalog through the kit cache in Redis,
 * warm after the warm-up) is run against the same order service with a price reader that costs
 * nothing (`unpriced`), in the same run, so the difference is what pricing adds. The price cache's
 * hits and loads during the priced run are read from order's `/metrics`.
 *
 * Env: BENCH_ORDERS (default 3000), BENCH_CONCURRENCY (default 50), BENCH_VARIANTS (default
 * `prefer,unpriced,poll,monolith`; add `floor` for the order service against participants that answer at once),
 * BENCH_PROFILE (a process of the stack, e.g. `order` or `saga-monolith`: writes its V8 CPU profile to
 * /tmp/aio-saga-prof),
 * DB_POOL_MAX (passed to every service, for pool-size experiments), PRICE_CACHE_REDIS_TIMEOUT_MS
 * (order's price-cache Redis bound, default 50 ms). The processes are started by the
 * stack launcher (`@aio/stack`); their logs go to a temporary directory per variant.
 */
import {
  identityEnv,
  StackScope,
  startStack,
  TOKEN_ISSUER,
  type ManagedProcess,
  type ProcessEntry,
  type StackOptions,
} from '@aio/stack';
import http from 'node:http';
import { agent, json } from './http-json.js';
import type { IssuerTokens } from '@aio/kit/testing';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SKUS = Array.from({ length: 10 }, (_, i) => `BENCH-${i}`);

/** The benchmark's own processes, next to the platform's (built by the bench:saga script). */
const BASELINES: readonly ProcessEntry[] = [
  { name: 'saga-monolith', role: 'support', main: 'lib/bench/saga-monolith.mjs', database: true },
  { name: 'null-participants', role: 'support', main: 'lib/bench/saga-null-participants.mjs' },
  {
    // order with a price reader that costs nothing: the path before the catalog priced orders
    name: 'order-unpriced',
    role: 'support',
    main: 'lib/bench/saga-unpriced-order.mjs',
    database: true,
    calls: ['inventory', 'payment'],
    // the order service: it checks customer tokens like the platform's entry
    after: [TOKEN_ISSUER],
    env: (ctx) => ({
      ...identityEnv(ctx),
      RESERVATION_TTL_SECONDS: ctx.envOf('inventory').RESERVATION_TTL_SECONDS ?? '900',
      CATALOG_URL: 'http://127.0.0.1:9', // never called
    }),
  },
];

/** Starts `processes` (and what they call) on throwaway databases, as every variant does. */
async function startBench(label: string, processes: string[], standIns: StackOptions['standIns'] = {}) {
  // BENCH_PROFILE=order (or inventory, payment, saga-monolith) writes a V8 CPU profile to /tmp/aio-saga-prof
  const profiled = process.env.BENCH_PROFILE;
  const stack = await startStack({
    processes,
    scope: StackScope.test(label),
    extraProcesses: BASELINES,
    standIns,
    commonEnv: {
      ...(process.env.DB_POOL_MAX ? { DB_POOL_MAX: process.env.DB_POOL_MAX } : {}),
      // order's price-cache Redis bound (50 ms by default), for runs on a loaded machine
      ...(process.env.PRICE_CACHE_REDIS_TIMEOUT_MS
        ? { PRICE_CACHE_REDIS_TIMEOUT_MS: process.env.PRICE_CACHE_REDIS_TIMEOUT_MS }
        : {}),
    },
    nodeArgs: profiled ? { [profiled]: ['--cpu-prof', '--cpu-prof-dir=/tmp/aio-saga-prof'] } : {},
  });
  // the clients sign in with the stack's issuer; the monolith baseline has none and checks nothing
  tokens = stack.processes.some((p) => p.entry.name === TOKEN_ISSUER) ? stack.tokens : undefined;
  return stack;
}

/** The issuer of the stack under load, when it has one. */
let tokens: IssuerTokens | undefined;

/** The `Authorization` of `customer` (cached per customer: signing is not what is measured). */
async function signedIn(customer: string): Promise<Record<string, string>> {
  return tokens ? tokens.headers(customer) : {};
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used so far by every process whose command name is `comm` (postgres backends, redis). */
async function cpuSecondsOf(comm: string): Promise<Map<number, number>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readFile(`/proc/${entry}/comm`, 'utf8')).trim() !== comm) continue;
      out.set(Number(entry), await cpuSeconds(Number(entry)));
    } catch {
      // the process ended between readdir and read
    }
  }
  return out;
}

/** What every process on the machine spent while `run` ran: the services, Postgres, Redis and this load generator. */
async function measureCpu(
  procs: Record<string, ManagedProcess>,
  orders: number,
  run: () => Promise<RunResult>,
): Promise<RunResult> {
  const sample = async () => ({
    own: await Promise.all(Object.values(procs).map((p) => cpuSeconds(p.pid))),
    postgres: await cpuSecondsOf('postgres'),
    redis: await cpuSecondsOf('redis-server'),
    load: process.cpuUsage(),
  });
  const before = await sample();
  const result = await run();
  const after = await sample();
  const perOrder = (seconds: number) => (seconds * 1000) / orders;
  const delta = (a: Map<number, number>, b: Map<number, number>) =>
    [...b].reduce((sum, [pid, s]) => sum + s - (a.get(pid) ?? 0), 0);
  const load = process.cpuUsage(before.load);
  result.cpuMsPerOrder = {
    ...Object.fromEntries(
      Object.keys(procs).map((name, i) => [name, perOrder(after.own[i]! - before.own[i]!)]),
    ),
    postgres: perOrder(delta(before.postgres, after.postgres)),
    redis: perOrder(delta(before.redis, after.redis)),
    'load generator': perOrder((load.user + load.system) / 1e6),
  };
  return result;
}

interface RunResult {
  /** CPU ms per order, by process. */
  cpuMsPerOrder?: Record<string, number>;
  /** The price cache's counters over the run (priced runs only). */
  priceCache?: Record<string, number>;
  readonly ordersPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly approved: number;
}

/**
 * How a client waits for the outcome: `prefer-wait` sends `Prefer: wait=10` with the POST (one request;
 * the monolith answers synchronously anyway), `poll` POSTs and then long-polls `GET ?waitMs=`.
 */
type ClientMode = 'prefer-wait' | 'poll';

/** Closed loop: each client places an order and waits until it is terminal, then places the next. */
async function load(orderUrl: string, count: number, tag: string, mode: ClientMode): Promise<RunResult> {
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
        const customer = `c${i % 100}`;
        const body = {
          customerId: customer,
          currency: 'EUR',
          paymentToken: token,
          items: [{ sku, quantity: 1, unitPrice: 10 }],
        };
        const placed = await json('POST', `${orderUrl}/orders`, body, {
          ...(await signedIn(customer)),
          'idempotency-key': `${tag}-${i}`,
          ...(mode === 'prefer-wait' ? { prefer: 'wait=10' } : {}),
        });
        if (placed.status !== 202 && placed.status !== 201) {
          throw new Error(`POST /orders answered ${placed.status}`);
        }
        let status = placed.body.status as string;
        while (status === 'PENDING') {
          const read = `${orderUrl}/orders/${String(placed.body.orderId)}?waitMs=10000`;
          status = (await json('GET', read, undefined, await signedIn(customer))).body.status as string;
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

/** Order's price-cache counters (`aio_cache_*{cache="price"}`), summed over their other labels but these. */
type PriceCacheCounters = Record<string, number>;

async function priceCacheCounters(orderUrl: string): Promise<PriceCacheCounters> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get(`${orderUrl}/metrics`, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  const lines = text.split('\n').filter((l) => l.includes('cache="price"'));
  const sum = (name: string, label = '') =>
    lines
      .filter((l) => l.startsWith(`${name}{`) && l.includes(label))
      .reduce((total, l) => total + Number(l.split(' ').at(-1)), 0);
  return {
    hits: sum('aio_cache_hits_total'),
    misses: sum('aio_cache_misses_total'),
    stale: sum('aio_cache_stale_served_total'),
    loads: sum('aio_cache_loads_total'),
    'loads, cold key': sum('aio_cache_loads_total', 'reason="miss"'),
    'loads, expired': sum('aio_cache_loads_total', 'reason="expired"'),
    'loads, early (XFetch)': sum('aio_cache_loads_total', 'reason="early"'),
    'loads, Redis timed out': sum('aio_cache_loads_total', 'reason="redis-down"'),
    'Redis calls timed out or failed': sum('aio_cache_errors_total', 'kind="redis"'),
  };
}

/**
 * The order service against one bare process answering every participant call at once
 * (`bench/saga-null-participants.ts`): what the saga reaches when inventory and payment cost nothing
 * but their HTTP exchange. A ceiling for any participant implementation, not a deployable setup.
 */
async function benchFloor(): Promise<RunResult> {
  // the unpriced order: the floor of the saga itself, without the catalog read
  const stack = await startBench('bench_floor', ['order-unpriced'], {
    inventory: 'null-participants',
    payment: 'null-participants',
  });
  try {
    const order = stack.process('order-unpriced');
    await load(order.url, 300, 'warmup', 'prefer-wait');
    const procs = { order, 'null participants': stack.process('null-participants') };
    return await measureCpu(procs, ORDERS, () => load(order.url, ORDERS, 'run', 'prefer-wait'));
  } finally {
    await stack.stop();
  }
}

/**
 * The saga as deployed: order prices every line from the catalog (a fourth process), then reserves
 * and pays. `unpriced` runs the same order service with a price reader that costs nothing
 * (`bench/saga-unpriced-order.ts`): the difference is what pricing adds.
 */
async function benchSaga(mode: ClientMode, pricing: 'priced' | 'unpriced' = 'priced'): Promise<RunResult> {
  const orderName = pricing === 'priced' ? 'order' : 'order-unpriced';
  const stack = await startBench(`bench_saga_${pricing}`, [orderName]);
  try {
    const [order, inventory, payment] = [orderName, 'inventory', 'payment'].map((n) => stack.process(n));
    for (const sku of SKUS) await json('PUT', `${inventory!.url}/stock/${sku}`, { available: 1_000_000 });
    const catalog = pricing === 'priced' ? stack.process('catalog') : undefined;
    for (const sku of catalog ? SKUS : []) {
      await json('PUT', `${catalog!.url}/products/${sku}`, { name: sku, priceMinor: 1000, currency: 'EUR' });
    }
    await load(order!.url, 300, 'warmup', mode);
    const procs = {
      order: order!,
      inventory: inventory!,
      payment: payment!,
      ...(catalog ? { catalog } : {}),
    };
    const before = catalog ? await priceCacheCounters(order!.url) : undefined;
    const result = await measureCpu(procs, ORDERS, () => load(order!.url, ORDERS, 'run', mode));
    if (before) {
      const after = await priceCacheCounters(order!.url);
      result.priceCache = Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]),
      );
    }
    return result;
  } finally {
    await stack.stop();
  }
}

async function benchMonolith(): Promise<RunResult> {
  const stack = await startBench('bench_monolith', ['saga-monolith']);
  try {
    const mono = stack.process('saga-monolith');
    for (const sku of SKUS) await json('PUT', `${mono.url}/stock/${sku}`, { available: 1_000_000 });
    await load(mono.url, 300, 'warmup', 'prefer-wait');
    return await measureCpu({ monolith: mono }, ORDERS, () => load(mono.url, ORDERS, 'run', 'prefer-wait'));
  } finally {
    await stack.stop();
  }
}

// BENCH_VARIANTS=prefer,unpriced,poll,monolith (the default) picks what runs; the ratio needs prefer
// and monolith, the pricing cost prefer and unpriced
const VARIANTS = new Set((process.env.BENCH_VARIANTS ?? 'prefer,unpriced,poll,monolith').split(','));
const saga = VARIANTS.has('prefer') ? await benchSaga('prefer-wait') : undefined;
const unpriced = VARIANTS.has('unpriced') ? await benchSaga('prefer-wait', 'unpriced') : undefined;
const sagaPoll = VARIANTS.has('poll') ? await benchSaga('poll') : undefined;
const floor = VARIANTS.has('floor') ? await benchFloor() : undefined;
const monolith = VARIANTS.has('monolith') ? await benchMonolith() : undefined;
const row = (name: string, r: RunResult | undefined) =>
  r
    ? `| ${name} | ${r.ordersPerSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.approved} |`
    : `| ${name} | not run | | | |`;
console.log(`saga bench: ${ORDERS} orders, concurrency ${CONCURRENCY}, ${SKUS.length} SKUs, 5% declines\n`);
console.log('| variant | orders/s | p50 ms (to terminal) | p99 ms | approved |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(row('saga priced from the warm price cache, client sends `Prefer: wait=10` (4 processes)', saga));
console.log(row('saga unpriced (zero-cost price reader), `Prefer: wait=10` (3 processes)', unpriced));
console.log(row('saga, client POSTs then long-polls GET (3 processes)', sagaPoll));
if (floor) console.log(row('floor: order service, participants that answer at once (2 processes)', floor));
console.log(row('monolith (1 process, 1 transaction)', monolith));
const cpu = (r: RunResult | undefined) => {
  if (!r) return 'not run';
  const parts = Object.entries(r.cpuMsPerOrder ?? {});
  const total = parts.reduce((sum, [, v]) => sum + v, 0);
  return `${total.toFixed(2)} (${parts.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`;
};
console.log(`\nCPU ms per order, every process on the machine:`);
console.log(`  saga (prefer-wait): ${cpu(saga)}`);
console.log(`  saga (unpriced):    ${cpu(unpriced)}`);
console.log(`  saga (poll):        ${cpu(sagaPoll)}`);
if (floor) console.log(`  floor:              ${cpu(floor)}`);
console.log(`  monolith:           ${cpu(monolith)}`);
for (const [name, r] of [
  ['prefer-wait', saga],
  ['poll', sagaPoll],
] as const) {
  const c = r?.priceCache;
  if (c) {
    console.log(
      `price cache during the priced run (${name}): ${Object.entries(c)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
}
if (saga && unpriced) {
  console.log(
    `\npricing adds: p50 ${(saga.p50 - unpriced.p50).toFixed(2)} ms, p99 ${(saga.p99 - unpriced.p99).toFixed(2)} ms ` +
      `(target p99 <= 1 ms); throughput ${((saga.ordersPerSecond / unpriced.ordersPerSecond) * 100).toFixed(0)} % of unpriced`,
  );
}
if (monolith) {
  const ratio = (r: RunResult | undefined) =>
    r ? (r.ordersPerSecond / monolith.ordersPerSecond).toFixed(2) : '-';
  const met = saga && saga.ordersPerSecond / monolith.ordersPerSecond >= 0.5;
  console.log(
    `\nratio saga/monolith throughput: ${ratio(saga)} (target >= 0.5) ${met ? 'OK' : 'BELOW TARGET'}; ` +
      `with the polling client: ${ratio(sagaPoll)}`,
  );
  if (floor) console.log(`floor/monolith (the most any participants could give): ${ratio(floor)}`);
}
