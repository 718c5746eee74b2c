/**
 * `npm run bench:history`: the order-history projection under `bench:saga` load, in one run.
 *
 * 1. Under load: order, inventory, payment, catalog and the monolith run as processes (the stack
 *    launcher); order-history runs in this process, projecting the order, payment, catalog and
 *    monolith feeds, while the closed-loop saga load of bench:saga (BENCH_CONCURRENCY clients, each
 *    placing an order with `Prefer: wait=10` and waiting for its end) places BENCH_ORDERS orders.
 *    Printed: events projected per second, and the lag of every event, from the moment its producer
 *    wrote it (`occurred_at`, the producer's clock_timestamp()) to the moment the projection's
 *    transaction holding it committed: p50, p99, max. Target: p99 <= 1 s.
 * 2. The ceiling: `order-history rebuild` replays every event of the run from position 0 into new
 *    tables and swaps them in; events per second of that replay is what one projector does when it
 *    never waits for a producer (the catch-up rate after an outage).
 *
 * The projector shares this process's event loop with the load generator, so its lag includes the
 * load generator's turns: a pessimistic figure. Env: BENCH_ORDERS (default 3000), BENCH_CONCURRENCY
 * (default 50), HISTORY_BATCH (default 500).
 */
import { agent, json } from './http-json.js';
import { readFile } from 'node:fs/promises';
import { createLogger, createPool, parseConfig, readFeedHoldback } from '@aio/kit';
import { createTestDatabase, DEV_TOKEN_AUDIENCE } from '@aio/kit/testing';
import { StackScope, startStack } from '@aio/stack';
import { orderHistoryConfigSchema } from '../services/order-history/src/config.js';
import { projectionChecksum, rebuildProjection } from '../services/order-history/src/rebuild.js';
import { startOrderHistory } from '../services/order-history/src/service.js';
import { sourcesOf } from '../services/order-history/src/sources.js';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SKUS = Array.from({ length: 10 }, (_, i) => `BENCH-${i}`);

let retried = 0;

/** bench:saga's closed loop: each client places an order (Prefer: wait=10) and waits for its end. */
async function load(orderUrl: string, count: number, tag: string): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const body = {
          customerId: `c${i % 100}`,
          currency: 'EUR',
          paymentToken: i % 20 === 0 ? 'tok_chargeDeclined' : 'tok_visa',
          items: [{ sku: SKUS[i % SKUS.length]!, quantity: 1, unitPrice: 10 }],
        };
        // signed in as the body's customer (order takes the customer from the token)
        const auth = await stack.tokens.headers(body.customerId);
        let placed = await json('POST', `${orderUrl}/orders`, body, {
          ...auth,
          'idempotency-key': `${tag}-${i}`,
          prefer: 'wait=10',
        });
        // a 503 (the catalog slow to answer on the loaded machine) is retried with the same key
        for (let retry = 0; placed.status === 503 && retry < 20; retry++) {
          retried++;
          await new Promise((r) => setTimeout(r, 200));
          placed = await json('POST', `${orderUrl}/orders`, body, {
            ...auth,
            'idempotency-key': `${tag}-${i}`,
            prefer: 'wait=10',
          });
        }
        if (placed.status !== 202 && placed.status !== 201)
          throw new Error(`POST /orders answered ${placed.status}: ${JSON.stringify(placed.body)}`);
        let status = placed.body.status as string;
        while (status === 'PENDING') {
          const read = `${orderUrl}/orders/${String(placed.body.orderId)}?waitMs=10000`;
          status = (await json('GET', read, undefined, auth)).body.status as string;
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

const loadBefore = await loadAverage();
const stack = await startStack({
  processes: ['order', 'monolith'],
  scope: StackScope.test('bench_history'),
  commonEnv: process.env.DB_POOL_MAX ? { DB_POOL_MAX: process.env.DB_POOL_MAX } : {},
  // the machine is shared: a catalog read may take longer than the production bound (as in the tests)
  env: { order: { CATALOG_TIMEOUT_MS: '3000' } },
});
const db = await createTestDatabase('bench_history');
let lags: number[] = [];
const history = await startOrderHistory(
  parseConfig(orderHistoryConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ORDER_URL: stack.process('order').url,
    PAYMENT_URL: stack.process('payment').url,
    MONOLITH_URL: stack.process('monolith').url,
    CATALOG_URL: stack.process('catalog').url,
    HISTORY_BATCH: process.env.HISTORY_BATCH ?? '500',
    // the stack's issuer, as the launcher gives every service
    AUTH_ISSUER: stack.tokens.issuerUrl,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
  }),
  false,
  { onProjected: (_source, seconds) => lags.push(seconds) },
);
try {
  const order = stack.process('order').url;
  for (const sku of SKUS) {
    await json('PUT', `${stack.process('inventory').url}/stock/${sku}`, { available: 1_000_000 });
    await json('PUT', `${stack.process('catalog').url}/products/${sku}`, {
      name: sku,
      priceMinor: 1000,
      currency: 'EUR',
    });
  }
  await load(order, 300, 'warmup');
  // the projection of the warm-up is done when every source is caught up
  const caughtUp = () => [...history.projector.lag.values()].every((l) => l.events === 0 && l.seconds === 0);
  const applied = () => [...history.projector.lag.values()].reduce((n, l) => n + l.applied, 0);
  while (!caughtUp()) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  lags = [];
  // what open transactions hold order's feed back meanwhile (xids are server-wide: every
  // transaction on this shared Postgres server counts), sampled every 100 ms
  const orderDb = createPool(stack.database('order').url, { max: 1 });
  const held: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      held.push((await readFeedHoldback(orderDb)).heldSeconds);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const appliedBefore = applied();
  const t0 = performance.now();
  const loadSeconds = await load(order, ORDERS, 'run');
  sampling = false;
  await sampler;
  await orderDb.end();
  held.sort((a, b) => a - b);
  // the tail: events written at the end of the load, projected just after it
  const tailStart = performance.now();
  while (performance.now() - tailStart < 5000) {
    await new Promise((r) => setTimeout(r, 200));
    if (caughtUp() && lags.length > 0 && performance.now() - tailStart > 1200) break;
  }
  const projectedSeconds = (performance.now() - t0) / 1000;
  const projected = applied() - appliedBefore;
  const sorted = [...lags].sort((a, b) => a - b);
  const loadDuring = await loadAverage();

  const before = await projectionChecksum(history.pool);
  const rebuilt = await rebuildProjection(
    history.pool,
    sourcesOf(history.config),
    createLogger({ name: 'bench-rebuild', level: 'warn' }),
  );
  const same = (await projectionChecksum(history.pool)) === before;

  console.log(
    `history bench: ${ORDERS} orders (bench:saga load: concurrency ${CONCURRENCY}, Prefer: wait=10, ${SKUS.length} SKUs, 5% declines)\n`,
  );
  console.log('| figure | value |');
  console.log('| --- | ---: |');
  console.log(
    `| orders/s of the load | ${(ORDERS / loadSeconds).toFixed(0)} (${retried} POSTs retried after a 503) |`,
  );
  console.log(`| events projected | ${projected} |`);
  console.log(`| events projected/s under load | ${(projected / projectedSeconds).toFixed(0)} |`);
  console.log(`| lag p50 ms (written → projection committed) | ${(pct(sorted, 50) * 1000).toFixed(0)} |`);
  console.log(`| lag p99 ms | ${(pct(sorted, 99) * 1000).toFixed(0)} |`);
  console.log(`| lag max ms | ${((sorted.at(-1) ?? NaN) * 1000).toFixed(0)} |`);
  console.log(
    `| order's feed held back by open transactions, p50 / p99 ms (${held.length} samples) | ${(pct(held, 50) * 1000).toFixed(0)} / ${(pct(held, 99) * 1000).toFixed(0)} |`,
  );
  console.log(
    `| rebuild replay events/s (ceiling; ${rebuilt.events} events in ${rebuilt.ms} ms) | ${((rebuilt.events / rebuilt.ms) * 1000).toFixed(0)} |`,
  );
  console.log(
    `\np99 lag ${(pct(sorted, 99) * 1000).toFixed(0)} ms (target <= 1000 ms) ${pct(sorted, 99) <= 1 ? 'OK' : 'ABOVE TARGET'}; ` +
      `rebuild equal to the live projection: ${same ? 'yes' : 'NO'}`,
  );
  console.log(`load average: before ${loadBefore}; at the end of the load ${loadDuring}`);
} finally {
  await history.close();
  await db.drop();
  await stack.stop();
  agent.destroy();
}
