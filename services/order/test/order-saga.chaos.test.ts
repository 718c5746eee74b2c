import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Stack } from '@aio/stack';
import {
  CHAOS_SAGA_ENV,
  CHAOS_SKUS,
  pendingAfterDeadline,
  placeIdempotent,
  randomChaosOrder,
  underChaos,
} from './chaos-load.js';
import {
  call,
  addSku,
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
const INITIAL = 900;

let stack: Stack;

beforeAll(async () => {
  stack = await startSagaStack(
    'order_chaos',
    {
      inventory: CHAOS_SAGA_ENV.inventory,
      // Postgres' 100 connections are shared with every other suite
      order: { ...CHAOS_SAGA_ENV.order, DB_POOL_MAX: '8' },
    },
    2,
  );
  for (const sku of CHAOS_SKUS) await addSku(stack, sku, INITIAL);
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

const timeline: string[] = [];

describe('order saga under chaos', () => {
  test(`${ORDERS} orders with kill -9 of every service keep stock and money consistent`, async () => {
    const placed: string[] = [];
    const { kills, seconds: elapsed } = await underChaos(
      stack,
      ORDERS,
      async (i) => {
        const id = await placeIdempotent(replicas, i, randomChaosOrder(i, `chaos-${i % 97}`), `chaos-${i}`);
        placed.push(id);
        // closed loop: each client waits for its order (any replica) before the next one
        await waitTerminal(() => replicas()[Math.floor(Math.random() * 2)]!.url, id, 120_000);
      },
      (victim, killedAt, downMs) =>
        timeline.push(`${new Date(killedAt).toISOString()} ${victim} down ${downMs} ms`),
    ).finally(() => console.log(timeline.join('\n')));

    const db = new pg.Client({ connectionString: stack.database('order').url });
    await db.connect();
    expect(await pendingAfterDeadline(db)).toBe(0);
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

    for (const sku of CHAOS_SKUS) {
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
      new Set(['order-0', 'order-1', 'inventory', 'payment', 'catalog', 'review', 'token-issuer']),
    );
    expect(approved).toBeGreaterThan(0);
  }, 480_000);
});
