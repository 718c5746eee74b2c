import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createLogger,
  createPool,
  createServer,
  TokenVerifier,
  type FastifyInstance,
  type Pool,
} from '@aio/kit';
import { DEV_TOKEN_AUDIENCE } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import {
  CHAOS_SAGA_ENV,
  CHAOS_SKUS,
  chaosVictims,
  pendingAfterDeadline,
  placeIdempotent,
  randomChaosOrder,
  underChaos,
} from '../../order/test/chaos-load.js';
import { call, signInWith, sleep, waitTerminal, type Json } from '../../order/test/order-client.js';
import { principalCustomer } from '../src/caller.js';
import { registerHistoryRoutes } from '../src/history-routes.js';
import { LAG_BOUND_SECONDS } from '../src/history-status.js';

/**
 * Convergence under the saga chaos test's load (services/order/test/order-saga.chaos.test.ts):
 * `AIO_CHAOS_ORDERS` orders (600 by default; the chaos test's 2,000 take over 10 minutes on the
 * shared 2-core machine with the projector and the monolith added) at concurrency 60 over 3 hot SKUs through 2
 * order replicas, some payments declined, a tenth of them placed on the monolith instead, while a
 * killer `kill -9`s and restarts every process in random rounds, the order-history projector and
 * the producers whose feeds it reads included. Once the faults stop and every order is terminal,
 * the read model must equal the services' truth, read from their own databases (every order's
 * customer, status, payment status and total, legacy and service), within the lag bound.
 */

const ORDERS = Number(process.env.AIO_CHAOS_ORDERS ?? 600);
const CUSTOMERS = 97;

let stack: Stack;
let historyPool: Pool;
/** The service's own `GET /me/orders` over the child's database, the caller signed in with the stack's issuer. */
let reader: FastifyInstance;
const url = (name: string) => stack.process(name).url;
const replicas = () => stack.replicas('order');

beforeAll(async () => {
  stack = await startStack({
    processes: ['order-history'],
    scope: StackScope.test('history_converge'),
    replicas: { order: 2 },
    // Postgres' 100 connections are shared with every other suite
    commonEnv: { DB_POOL_MAX: '4' },
    env: {
      inventory: { ...CHAOS_SAGA_ENV.inventory, SWEEP_INTERVAL_MS: '200' },
      order: { ...CHAOS_SAGA_ENV.order, CATALOG_TIMEOUT_MS: '2000' },
      'order-history': { HISTORY_WAIT_MS: '500' },
    },
  });
  // order and the monolith take the customer from the token: call signs in as the body's customer
  signInWith(stack);
  for (const sku of CHAOS_SKUS) {
    const stock = await call(`${url('inventory')}/stock/${sku}`, 'PUT', { available: 900 });
    const legacy = await call(`${url('monolith')}/api/stock/${sku}`, 'PUT', { available: 100_000 });
    const product = await call(`${url('catalog')}/products/${sku}`, 'PUT', {
      name: `Hot item ${sku}`,
      priceMinor: 1000,
      currency: 'EUR',
    });
    expect([stock.status, legacy.status, product.status]).toEqual([200, 200, 201]);
  }
  historyPool = createPool(stack.database('order-history').url, { max: 2 });
  reader = createServer({
    logger: createLogger({ name: 'converge-reader', level: 'silent' }),
    auth: new TokenVerifier({ issuer: stack.tokens.issuerUrl, audience: DEV_TOKEN_AUDIENCE }),
  });
  registerHistoryRoutes(reader, historyPool, principalCustomer);
  await reader.ready();
}, 120_000);

afterAll(async () => {
  await reader?.close();
  await historyPool?.end();
  await stack?.stop();
});

const randomOrder = (i: number) => randomChaosOrder(i, `conv-${i % CUSTOMERS}`);

/** Places service order `i` on either order replica and waits until it is terminal. */
async function placeServiceOrder(i: number): Promise<void> {
  const orderId = await placeIdempotent(replicas, i, randomOrder(i), `conv-${i}`);
  await waitTerminal(() => replicas()[Math.floor(Math.random() * 2)]!.url, orderId, 120_000);
}

/**
 * Places a legacy order on the monolith until it answers. The monolith has no idempotency key, so a
 * reply lost to a kill may leave a second order: the truth is its table, whatever it holds.
 */
async function placeLegacyOrder(i: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await call(`${url('monolith')}/api/orders`, 'POST', randomOrder(i));
      if (res.status === 201) return;
    } catch {
      // monolith down
    }
    if (attempt > 400) throw new Error(`could not place legacy order ${i}`);
    await sleep(50);
  }
}

/** One order as both sides are compared: what a customer must see of it. */
interface Seen {
  orderId: string;
  origin: 'legacy' | 'service';
  status: string;
  paymentStatus: string;
  total: number;
}

const byId = (a: Seen, b: Seen) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0);

/**
 * The services' truth, per customer, from their own tables: order's orders with payment's status
 * (the states payment records events for; `NONE` before payment has one) and the monolith's orders.
 */
async function truth(): Promise<Map<string, Seen[]>> {
  const read = async <R extends object>(name: string, sql: string): Promise<R[]> => {
    const db = new pg.Client({ connectionString: stack.database(name).url });
    await db.connect();
    try {
      return (await db.query<R>(sql)).rows;
    } finally {
      await db.end();
    }
  };
  const [orders, payments, legacy] = await Promise.all([
    read<{ order_id: string; customer_id: string; status: string; total: string }>(
      'order',
      'SELECT order_id::text, customer_id, status, total::text FROM orders',
    ),
    // a VOIDED row without an amount is a tombstone (a void that came before any authorization):
    // there never was a payment, and payment records no event for it
    read<{ order_id: string; status: string }>(
      'payment',
      "SELECT order_id, status FROM payments WHERE NOT (status = 'VOIDED' AND amount_minor IS NULL)",
    ),
    read<{ order_id: string; customer_id: string; status: string; total: string }>(
      'monolith',
      'SELECT order_id::text, customer_id, status, total::text FROM orders',
    ),
  ]);
  const paid = new Map(payments.map((p) => [p.order_id, p.status]));
  const out = new Map<string, Seen[]>();
  const add = (customer: string, seen: Seen) => out.set(customer, [...(out.get(customer) ?? []), seen]);
  for (const o of orders) {
    const pay = paid.get(o.order_id);
    add(o.customer_id, {
      orderId: o.order_id,
      origin: 'service',
      status: o.status,
      paymentStatus: pay && ['AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED'].includes(pay) ? pay : 'NONE',
      total: Number(o.total),
    });
  }
  for (const o of legacy)
    add(o.customer_id, {
      orderId: o.order_id,
      origin: 'legacy',
      status: o.status,
      paymentStatus: 'NOT_TRACKED',
      total: Number(o.total),
    });
  for (const list of out.values()) list.sort(byId);
  return out;
}

/** What `GET /me/orders` shows `customer`, every page. */
async function shown(customer: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  let next: string | undefined;
  do {
    const res = await reader.inject({
      url: `/me/orders?limit=100${next ? `&after=${next}` : ''}`,
      headers: await stack.tokens.headers(customer),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as Json;
    for (const o of body.orders as Json[])
      seen.push({
        orderId: o.orderId,
        origin: o.origin,
        status: o.status,
        paymentStatus: o.paymentStatus,
        total: o.total,
      });
    next = body.next;
  } while (next);
  return seen.sort(byId);
}

/** Customers whose history differs from the truth (with the first difference), or none. */
async function differences(): Promise<string[]> {
  const expected = await truth();
  const problems: string[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const customer = `conv-${c}`;
    const want = expected.get(customer) ?? [];
    const got = await shown(customer);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const i = want.findIndex((w, k) => JSON.stringify(w) !== JSON.stringify(got[k]));
      problems.push(
        `${customer}: ${got.length} shown, ${want.length} true; first difference ` +
          `${JSON.stringify(got[i === -1 ? want.length : i])} vs ${JSON.stringify(want[i])}`,
      );
    }
  }
  // nothing outside those customers either: every projected order is one of the truth's
  const { rows } = await historyPool.query<{ n: number }>('SELECT count(*)::int AS n FROM history_order');
  const total = [...expected.values()].reduce((n, l) => n + l.length, 0);
  if (rows[0]!.n !== total) problems.push(`${rows[0]!.n} orders projected, ${total} true`);
  return problems;
}

describe('order-history under the saga chaos load', () => {
  test(`${ORDERS} orders with kill -9 of every process: the read model converges to the truth within the lag bound`, async () => {
    const { kills, seconds: elapsed } = await underChaos(stack, ORDERS, (i) =>
      i % 10 === 9 ? placeLegacyOrder(i) : placeServiceOrder(i),
    );

    // the truth settles first: no order left PENDING (the saga's deadline bounds it)
    const orderDb = new pg.Client({ connectionString: stack.database('order').url });
    await orderDb.connect();
    const pending = await pendingAfterDeadline(orderDb);
    await orderDb.end();
    expect(pending).toBe(0);

    // then the read model must show exactly the truth within the lag bound
    const settled = Date.now();
    let problems = await differences();
    while (problems.length && Date.now() - settled < LAG_BOUND_SECONDS * 1000) {
      await sleep(250);
      problems = await differences();
    }
    const converged = (Date.now() - settled) / 1000;
    console.log(
      `convergence: ${ORDERS} orders in ${elapsed.toFixed(1)} s, ${kills.length} kills ` +
        `(${[...new Set(kills)].map((k) => `${k}×${kills.filter((x) => x === k).length}`).join(', ')}); ` +
        `read model equal to the truth ${converged.toFixed(2)} s after every order was terminal`,
    );
    expect(problems).toEqual([]);
    // every process of the stack was killed under load (order's replicas, its participants, the
    // catalog and what it calls, the monolith and order-history itself)
    expect(new Set(kills)).toEqual(new Set(chaosVictims(stack).map((p) => p.name)));
    expect(kills).toEqual(expect.arrayContaining(['order-0', 'order-1', 'monolith', 'order-history']));
    // the projector's own view agrees: no source behind
    const status = (await call(`${url('order-history')}/history/status`)).body.sources as Json[];
    expect(status.map((s) => [s.source, s.lagEvents])).toEqual(
      ['order', 'payment', 'monolith', 'catalog'].map((s) => [s, 0]),
    );
  }, 600_000);
});
