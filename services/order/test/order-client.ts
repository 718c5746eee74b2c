import { createRedis } from '@aio/kit';
import { TEST_REDIS_URL } from '@aio/kit/testing';
import { StackScope, startStack, type Stack, type StackOptions } from '@aio/stack';

/**
 * The order service's tests: order and what it calls (inventory, payment, catalog) started by the
 * stack launcher, on their own databases and Redis prefix, plus JSON helpers.
 */

/** Env overrides per process, as {@link StackOptions.env}. */
export type StackEnv = NonNullable<StackOptions['env']>;

/** Starts order (with `orderReplicas` instances), inventory, payment and catalog in a test scope. */
export async function startSagaStack(label: string, env: StackEnv = {}, orderReplicas = 1): Promise<Stack> {
  return startStack({
    processes: ['order'],
    scope: StackScope.test(label),
    replicas: { order: orderReplicas },
    // Postgres' 100 connections are shared with every other suite
    commonEnv: { DB_POOL_MAX: '4' },
    env: {
      ...env,
      inventory: { SWEEP_INTERVAL_MS: '200', ...env.inventory },
      // the machine is shared: a catalog read may take longer than the production bound
      order: { CATALOG_TIMEOUT_MS: '2000', ...env.order },
    },
  });
}

/** A parsed JSON reply body; tests read fields freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** JSON request helper; returns status and parsed body. */
export async function call(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Makes `sku` orderable: `available` units in inventory and a price in the catalog (10.00 EUR by
 * default, the `unitPrice` {@link orderBody} states).
 */
export async function addSku(
  stack: Stack,
  sku: string,
  available: number,
  price: { priceMinor: number; currency: string } = { priceMinor: 1000, currency: 'EUR' },
): Promise<void> {
  const stock = await call(`${stack.process('inventory').url}/stock/${sku}`, 'PUT', { available });
  const product = await call(`${stack.process('catalog').url}/products/${sku}`, 'PUT', {
    name: sku,
    ...price,
  });
  if (stock.status !== 200 || product.status >= 300) {
    throw new Error(`addSku ${sku}: inventory answered ${stock.status}, catalog ${product.status}`);
  }
}

/** An order body; each line states the price {@link addSku} sets (10 EUR). */
export function orderBody(
  items: { sku: string; quantity: number }[],
  paymentToken = 'tok_visa',
  customerId = 'c1',
) {
  return { customerId, currency: 'EUR', paymentToken, items: items.map((i) => ({ ...i, unitPrice: 10 })) };
}

/** Polls an order until it is APPROVED or REJECTED (long-polling with `waitMs`). */
export async function waitTerminal(
  orderUrl: () => string,
  orderId: string,
  timeoutMs = 30_000,
): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { status, body } = await call(`${orderUrl()}/orders/${orderId}?waitMs=1000`);
      if (status === 200 && body.status !== 'PENDING') return body;
    } catch {
      await sleep(100); // the replica may be down
    }
    if (Date.now() > deadline) throw new Error(`order ${orderId} not terminal after ${timeoutMs} ms`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An order as the chaos tests check it, read straight from order's own table. */
export interface StoredOrder {
  readonly order_id: string;
  readonly status: string;
  readonly items: { sku: string; quantity: number; unitPrice?: number; catalogVersion?: number }[];
  readonly rejection_reason: string | null;
}

/** Every order row, for the invariant checks after a chaos run. */
export async function storedOrders(db: {
  query<R extends object>(sql: string): Promise<{ rows: R[] }>;
}): Promise<StoredOrder[]> {
  return (
    await db.query<StoredOrder & object>('SELECT order_id, status, items, rejection_reason FROM orders')
  ).rows;
}

/** The Redis key of `sku`'s entry in order's price cache (the kit cache's layout, schema version 1). */
export function priceEntryKey(stack: Stack, sku: string, process = 'order'): string {
  return `${stack.redisPrefix}${process}:cache:price:v1:{${sku}}`;
}

/**
 * Waits until order's price cache can no longer serve `sku` below `version`: the catalog's change
 * feed reached order's follower and invalidated the entry (or a load already cached that version,
 * or nothing is cached). For tests that change a price and then order at once.
 *
 * @returns how long it took, ms
 */
export async function waitPriceInvalidated(
  stack: Stack,
  sku: string,
  version: number,
  timeoutMs = 10_000,
): Promise<number> {
  const redis = createRedis(TEST_REDIS_URL);
  const started = Date.now();
  try {
    for (;;) {
      const [ver, val, floor] = await redis.hmget(priceEntryKey(stack, sku), 'ver', 'val', 'floor');
      if (ver === null && floor === null) return Date.now() - started; // nothing cached
      if (Number(floor ?? 0) >= version || (val !== null && Number(ver) >= version))
        return Date.now() - started;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`price of ${sku} still cached below version ${version} after ${timeoutMs} ms`);
      }
      await sleep(20);
    }
  } finally {
    redis.disconnect();
  }
}
