import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { startOwnRedisServer, type OwnRedisServer } from '@aio/kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Stack } from '@aio/stack';
import {
  addSku,
  call,
  orderBody,
  sleep,
  startSagaStack,
  waitTerminal,
  storedOrders,
} from './order-client.js';

/**
 * Redis loss: orders run through the saga while inventory's Redis (a redis-server of this test's
 * own, without persistence) is killed with -9 and restarted empty, twice. Inventory must notice
 * (its epoch key is gone), rebuild from Postgres, and lose nothing: every order ends, the stock
 * adds up, nothing stays reserved, and no order is refused for stock the ledger held.
 */

const ORDERS = 200;
const CONCURRENCY = 20;
const SKUS = ['RL-1', 'RL-2', 'RL-3'];
// More than all orders can take (at most 2 units per SKU each): any INSUFFICIENT_STOCK is a loss.
const INITIAL = 2 * ORDERS + 50;

let redis: OwnRedisServer;
let stack: Stack;

beforeAll(async () => {
  redis = await startOwnRedisServer();
  stack = await startSagaStack('redis_loss', {
    inventory: { REDIS_URL: redis.url, SWEEP_INTERVAL_MS: '200' },
    order: { SAGA_POLL_MS: '200', DB_POOL_MAX: '6' },
  });
  for (const sku of SKUS) await addSku(stack, sku, INITIAL);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

function order(i: number) {
  const skus = SKUS.filter((_, k) => (i >> k) & 1);
  const items = (skus.length ? skus : [SKUS[i % 3]!]).map((sku) => ({ sku, quantity: 1 + (i % 2) }));
  return orderBody(items, i % 7 === 0 ? 'tok_chargeDeclined' : 'tok_visa', `rl-${i}`);
}

describe('inventory when Redis loses its data', () => {
  test(`${ORDERS} orders with Redis killed -9 and restarted empty twice keep the stock exact`, async () => {
    const placed: { id: string; i: number }[] = [];
    const events: string[] = [];
    let next = 0;
    const killer = (async () => {
      for (const at of [ORDERS * 0.3, ORDERS * 0.65]) {
        while (placed.length < at) await sleep(20);
        await redis.kill9();
        await sleep(200);
        await redis.start();
        events.push(`redis killed and restarted empty after ${placed.length} orders`);
      }
    })();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          const res = await call(`${stack.process('order').url}/orders`, 'POST', order(i), {
            'idempotency-key': `rl-${i}`,
          });
          expect(res.status).toBe(202);
          placed.push({ id: res.body.orderId, i });
          await waitTerminal(() => stack.process('order').url, res.body.orderId, 120_000);
        }
      }),
    );
    await killer;
    expect(events).toHaveLength(2);

    const db = new pg.Client({ connectionString: stack.database('order').url });
    await db.connect();
    const orders = await storedOrders(db);
    await db.end();
    expect(orders).toHaveLength(ORDERS);
    const byId = new Map(placed.map((p) => [p.id, p.i]));
    const wrong = orders
      .filter((o) => (byId.get(o.order_id)! % 7 === 0 ? o.status !== 'REJECTED' : o.status !== 'APPROVED'))
      .map((o) => `${o.order_id} #${byId.get(o.order_id)}: ${o.status} ${o.rejection_reason ?? ''}`);
    // Declines are the only rejections: none for stock, none because inventory answered from an empty Redis.
    expect(wrong).toEqual([]);

    const inventoryDb = new pg.Client({ connectionString: stack.database('inventory').url });
    await inventoryDb.connect();
    const ledger = new Map(
      (
        await inventoryDb.query<{ sku: string; available: number; reserved: number; sold: number }>(
          `SELECT sku, sum(d_available)::int AS available, sum(d_reserved)::int AS reserved, sum(d_sold)::int AS sold
             FROM stock_ledger GROUP BY sku`,
        )
      ).rows.map((r) => [r.sku, r]),
    );
    await inventoryDb.end();
    for (const sku of SKUS) {
      const stock = (await call(`${stack.process('inventory').url}/stock/${sku}`)).body;
      const approvedUnits = orders
        .filter((o) => o.status === 'APPROVED')
        .flatMap((o) => o.items)
        .filter((it) => it.sku === sku)
        .reduce((n, it) => n + it.quantity, 0);
      expect({ sku, ...stock }).toEqual({
        sku,
        available: INITIAL - approvedUnits,
        reserved: 0,
        sold: approvedUnits,
      });
      expect(ledger.get(sku)).toEqual({
        sku,
        available: INITIAL - approvedUnits,
        reserved: 0,
        sold: approvedUnits,
      });
    }

    // And the CLI finds nothing left to repair: no drift, no orphaned reservations.
    const reconcile = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../inventory/dist/main.js'), 'reconcile', '--dry-run'],
      {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: stack.database('inventory').url,
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: stack.process('inventory').env.REDIS_KEY_PREFIX!,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(reconcile.status, reconcile.stdout + reconcile.stderr).toBe(0);
    expect(JSON.parse(reconcile.stdout)).toMatchObject({ drift: [], orphanedReservations: [] });
  }, 240_000);
});
