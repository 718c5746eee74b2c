import { createRedis } from '@aio/kit';
import { TEST_REDIS_URL } from '@aio/kit/testing';
import { StackScope, startStack, type Stack, type StackOptions } from '@aio/stack';
import type { IssuerTokens } from '@aio/kit/testing';

/**
 * The order service's tests: order and what it calls (inventory, payment, catalog) started by the
 * stack launcher, on their own databases and Redis prefix, plus JSON helpers.
 */

/** Env overrides per process, as {@link StackOptions.env}. */
export type StackEnv = NonNullable<StackOptions['env']>;

/** Starts order (with `orderReplicas` instances), inventory, payment and catalog in a test scope. */
export async function startSagaStack(label: string, env: StackEnv = {}, orderReplicas = 1): Promise<Stack> {
  const stack = await startStack({
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
  signInWith(stack);
  return stack;
}

/** Makes {@link call} sign in with the issuer of `stack` (a test that starts its own stack calls it). */
export function signInWith(stack: Stack): void {
  customerTokens = stack.tokens;
}

/** The token source of {@link call}: the issuer of the stack {@link startSagaStack} started last. */
let customerTokens: IssuerTokens | undefined;
/** Which customer placed each order {@link call} saw placed: a client reads its own orders. */
const placedBy = new Map<string, string>();

/**
 * The customer a request to order acts as, as a real client knows it: the body's `customerId`, the
 * `?customerId=` of a list, the customer who placed the order read, else `c1`.
 */
function actingCustomer(url: string, body: unknown): string {
  const claimed = (body as { customerId?: unknown } | undefined)?.customerId;
  if (typeof claimed === 'string' && /^[!-~]{1,128}$/.test(claimed)) return claimed;
  const parsed = new URL(url);
  const read = /^(?:\/api)?\/orders\/([^/?]+)$/.exec(parsed.pathname)?.[1];
  return parsed.searchParams.get('customerId') ?? (read && placedBy.get(read)) ?? 'c1';
}

/** A parsed JSON reply body; tests read fields freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The `sub` of a bearer token a test passed itself (read, not verified: the service verifies). */
function subjectOf(authorization: string | undefined): string | undefined {
  const payload = authorization?.match(/^Bearer [^.]+\.([^.]+)\./)?.[1];
  if (!payload) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON request helper; returns status and parsed body. A request to order's `/orders` routes carries
 * a real token from the stack's issuer for the customer it acts as ({@link actingCustomer}), unless
 * `headers` has an `authorization` of its own (tests of refused tokens pass theirs, or `''` for none).
 */
export async function call(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const customer = subjectOf(headers.authorization) ?? actingCustomer(url, body);
  const path = new URL(url).pathname;
  const customerRoute = path.startsWith('/orders') || path.startsWith('/api/orders');
  if (customerTokens && !('authorization' in headers) && customerRoute) {
    headers = { ...headers, authorization: `Bearer ${await customerTokens.for(customer)}` };
  }
  if (headers.authorization === '') {
    const { authorization: _none, ...rest } = headers;
    headers = rest;
  }
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (method === 'POST' && typeof parsed?.orderId === 'string') placedBy.set(parsed.orderId, customer);
  return { status: res.status, body: parsed };
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
