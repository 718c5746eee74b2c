import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TOKEN_ISSUER, type ManagedProcess, type Stack } from '@aio/stack';
import {
  call,
  addSku,
  orderBody,
  sleep,
  startSagaStack,
  waitTerminal,
  type Json,
  storedOrders,
} from './order-client.js';

/**
 * Chaos: 2,000 orders at concurrency 60 over 3 hot SKUs, 2 order replicas, while a killer `kill -9`s
 * and restarts a random service every second or so; some payments decline. Then the invariants.
 */

const ORDERS = Number(process.env.AIO_CHAOS_ORDERS ?? 2000);
const CONCURRENCY = 60;
const SKUS = ['HOT-1', 'HOT-2', 'HOT-3'];
const INITIAL = 900;
const DEADLINE_SECONDS = 8;

let stack: Stack;

beforeAll(async () => {
  stack = await startSagaStack(
    'order_chaos',
    {
      inventory: { RESERVATION_TTL_SECONDS: '20' },
      order: {
        SAGA_DEADLINE_SECONDS: String(DEADLINE_SECONDS),
        SAGA_TTL_MARGIN_SECONDS: '5',
        SAGA_LEASE_MS: '3000',
        SAGA_POLL_MS: '200',
        PARTICIPANT_TIMEOUT_MS: '2000',
        DB_POOL_MAX: '8', // Postgres' 100 connections are shared with every other suite
      },
    },
    2,
  );
  for (const sku of SKUS) await addSku(stack, sku, INITIAL);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const url = (name: string) => stack.process(name).url;
const replicas = () => stack.replicas('order');

/** GET that retries a transient failure (a 5xx or a refused connection), so only answers are judged. */
async function settled(url: string): Promise<{ status: number; body: Json }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await call(url);
      if (res.status < 500 || attempt >= 20) return res;
    } catch (err) {
      if (attempt >= 20) throw err;
    }
    await sleep(250);
  }
}

function randomOrder(i: number) {
  const skus = SKUS.filter(() => Math.random() < 0.5);
  const items = (skus.length ? skus : [SKUS[i % 3]!]).map((sku) => ({
    sku,
    quantity: 1 + Math.floor(Math.random() * 2),
  }));
  const r = Math.random();
  const token = r < 0.08 ? 'tok_chargeDeclined' : r < 0.12 ? 'tok_insufficientFunds' : 'tok_visa';
  return orderBody(items, token, `chaos-${i % 97}`);
}

/** POSTs with an Idempotency-Key, moving to the other replica while one is down. */
async function placeWithRetry(body: unknown, key: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const replica = replicas()[(attempt + Number(key.split('-')[1])) % 2]!;
    try {
      const res = await call(`${replica.url}/orders`, 'POST', body, { 'idempotency-key': key });
      if (res.status === 202) return res.body.orderId as string;
    } catch {
      // replica down: try the other one
    }
    if (attempt > 400) throw new Error(`could not place ${key}`);
    await sleep(50);
  }
}

const timeline: string[] = [];
/** Faults stop after this long (or when the load ends); every service is killed at least once before. */
const CHAOS_SECONDS = Number(process.env.AIO_CHAOS_SECONDS ?? 45);

/**
 * Rounds of `kill -9` over every process in random order, a second or two apart, then a restart.
 * `onRound` is called after each full round; the load holds its last orders back until the first
 * round is over, so every service is killed while orders are in flight however fast they run.
 */
async function killer(stop: { done: boolean }, log: string[], onRound: () => void): Promise<void> {
  const until = Date.now() + CHAOS_SECONDS * 1000;
  while (!stop.done && Date.now() < until) {
    // the token issuer stands in for the company's identity provider, whose keys outlive a restart;
    // the dev issuer's do not (a restart invalidates every token), so it is not a victim here
    const round: ManagedProcess[] = stack.processes
      .filter((p) => p.name !== TOKEN_ISSUER)
      .sort(() => Math.random() - 0.5);
    for (const victim of round) {
      await sleep(800 + Math.random() * 1200);
      if (stop.done) return;
      const t0 = Date.now();
      await victim.kill9();
      log.push(victim.name);
      await sleep(100 + Math.random() * 400);
      for (let attempt = 1; ; attempt++) {
        try {
          await victim.start();
          timeline.push(`${new Date(t0).toISOString()} ${victim.name} down ${Date.now() - t0} ms`);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    }
    onRound();
  }
}

describe('order saga under chaos', () => {
  test(`${ORDERS} orders with kill -9 of every service keep stock and money consistent`, async () => {
    const stop = { done: false };
    const kills: string[] = [];
    let firstRoundOver!: () => void;
    const firstRound = new Promise<void>((resolve) => (firstRoundOver = resolve));
    const chaos = killer(stop, kills, () => firstRoundOver());
    // A killer that fails or ends early must not leave the load waiting forever.
    void chaos.finally(() => firstRoundOver()).catch(() => undefined);
    const placed: string[] = [];
    let next = 0;
    const started = Date.now();
    const load = Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          if (i >= ORDERS * 0.9) await firstRound;
          const id = await placeWithRetry(randomOrder(i), `chaos-${i}`);
          placed.push(id);
          // closed loop: each client waits for its order (any replica) before the next one
          await waitTerminal(() => replicas()[Math.floor(Math.random() * 2)]!.url, id, 120_000);
        }
      }),
    );
    try {
      await load;
    } finally {
      stop.done = true;
      await chaos.catch(() => undefined);
      console.log(timeline.join('\n'));
    }
    for (const p of stack.processes) if (!p.running) await p.start();
    const elapsed = (Date.now() - started) / 1000;

    const db = new pg.Client({ connectionString: stack.database('order').url });
    await db.connect();
    const faultsStopped = Date.now();
    let pending = -1;
    while (pending !== 0 && Date.now() - faultsStopped < DEADLINE_SECONDS * 1000) {
      pending = Number(
        (await db.query('SELECT count(*) AS n FROM orders WHERE status = $1', ['PENDING'])).rows[0].n,
      );
      if (pending) await sleep(200);
    }
    expect(pending).toBe(0);
    const orders = await storedOrders(db);
    const sagaStates = (
      await db.query('SELECT state, count(*)::int AS n FROM saga_instance GROUP BY state ORDER BY state')
    ).rows;
    await db.end();
    expect(orders).toHaveLength(ORDERS); // idempotent POST across replica kills: no duplicates
    expect(new Set(placed).size).toBe(ORDERS);
    // priced by the catalog even while it was killed: every line at its price and version, none at another
    const offPrice = orders
      .flatMap((o) => o.items)
      .filter((it) => it.unitPrice !== 10 || it.catalogVersion !== 1);
    expect(offPrice).toEqual([]);

    for (const sku of SKUS) {
      const stock = (await call(`${url('inventory')}/stock/${sku}`)).body;
      const approvedUnits = orders
        .filter((o) => o.status === 'APPROVED')
        .flatMap((o) => o.items)
        .filter((it) => it.sku === sku)
        .reduce((n, it) => n + it.quantity, 0);
      expect({ sku, sold: stock.sold }).toEqual({ sku, sold: approvedUnits });
      expect(stock.available + stock.reserved + stock.sold).toBe(INITIAL);
      expect(stock.reserved).toBe(0);
    }

    const problems: string[] = [];
    const queue = [...orders];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let o = queue.pop(); o; o = queue.pop()) {
          const [reservation, payment] = await Promise.all([
            settled(`${url('inventory')}/reservations/${o.order_id}`),
            settled(`${url('payment')}/payments/${o.order_id}`),
          ]);
          if (reservation.body?.status === 'RESERVED')
            problems.push(`${o.order_id}: reservation left RESERVED`);
          const pay: Json = payment.status === 200 ? payment.body : undefined;
          if (o.status === 'APPROVED' && !(pay?.status === 'CAPTURED' && pay.captures === 1)) {
            problems.push(`${o.order_id}: APPROVED but payment ${JSON.stringify(pay)}`);
          }
          if (
            o.status === 'REJECTED' &&
            pay &&
            (pay.captures !== 0 || !['VOIDED', 'DECLINED'].includes(pay.status))
          ) {
            problems.push(
              `${o.order_id}: REJECTED (${o.rejection_reason}) but payment ${JSON.stringify(pay)}`,
            );
          }
        }
      }),
    );
    expect(problems).toEqual([]);

    const approved = orders.filter((o) => o.status === 'APPROVED').length;
    const reasons: Record<string, number> = {};
    for (const o of orders)
      if (o.rejection_reason) reasons[o.rejection_reason] = (reasons[o.rejection_reason] ?? 0) + 1;
    console.log(
      `chaos: ${ORDERS} orders in ${elapsed.toFixed(1)} s (${(ORDERS / elapsed).toFixed(0)}/s), ${kills.length} kills ` +
        `(${[...new Set(kills)].map((k) => `${k}×${kills.filter((x) => x === k).length}`).join(', ')}), ` +
        `${approved} approved, rejected ${JSON.stringify(reasons)}, sagas ${JSON.stringify(sagaStates)}`,
    );
    expect(new Set(kills)).toEqual(
      new Set(['order-0', 'order-1', 'inventory', 'payment', 'catalog', 'review']),
    );
    expect(approved).toBeGreaterThan(0);
  }, 480_000);
});
