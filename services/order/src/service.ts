import {
  aggregateVersionTarget,
  CacheAside,
  CacheFeedFollower,
  createRedis,
  declareCalls,
  registerSagaRoutes,
  runService,
  SagaEngine,
  serveEventFeed,
  type BoundaryEvent,
  type ServiceContext,
} from '@aio/kit';
import {
  cachedPriceReader,
  catalogPriceReader,
  CATALOG_CALLS,
  PRICE_CACHE_SCHEMA,
  type CachedPrice,
  type PriceReader,
} from './catalog-prices.js';
import { parseOrderConfig, type OrderConfig } from './config.js';
import { ORDER_MIGRATIONS } from './migrations.js';
import { registerOrderRoutes } from './order-routes.js';
import { PLACE_ORDER_CALLS, placeOrderSaga } from './order-saga.js';

/** Options of {@link start}. */
export interface OrderStartOptions {
  /**
   * Where line prices come from. Only a benchmark's baseline passes one (bench:saga's zero-cost
   * reader, the "unpriced" path); the service itself always reads the catalog.
   *
   * @default - the catalog at `CATALOG_URL`
   */
  readonly readPrice?: PriceReader;
}

/**
 * Starts the order service: migrations, the saga worker (claims unfinished sagas now and every
 * `SAGA_POLL_MS`), the order API (each line priced from the catalog), the saga operator endpoints
 * and the event feed (`GET /events`).
 */
export async function start(
  env: NodeJS.ProcessEnv = process.env,
  options: OrderStartOptions = {},
): Promise<void> {
  let config: OrderConfig;
  try {
    config = parseOrderConfig(env);
  } catch (err) {
    for (const line of (err as Error).message.split('\n')) process.stderr.write(`config error: ${line}\n`);
    process.exit(1);
  }
  await runService({
    name: 'order',
    config,
    migrations: ORDER_MIGRATIONS,
    poolMax: config.DB_POOL_MAX,
    routes: (ctx) => {
      const { app, pool, logger, onClose } = ctx;
      const engine = new SagaEngine({
        pool,
        leaseMs: config.SAGA_LEASE_MS,
        pollIntervalMs: config.SAGA_POLL_MS,
        logger,
        ...(config.AIO_SAGA_CRASH ? { onBoundary: crashAt(config.AIO_SAGA_CRASH) } : {}),
      });
      engine.register(
        placeOrderSaga({
          inventoryUrl: config.INVENTORY_URL,
          paymentUrl: config.PAYMENT_URL,
          deadlineMs: config.SAGA_DEADLINE_SECONDS * 1000,
          callTimeoutMs: config.PARTICIPANT_TIMEOUT_MS,
        }),
      );
      // the route contract lists them (x-aio-calls): the mesh lets order call exactly these
      declareCalls(app, [...Object.values(PLACE_ORDER_CALLS), ...Object.values(CATALOG_CALLS)]);
      const readPrice = options.readPrice ?? priceReader(ctx, config);
      registerOrderRoutes(app, pool, engine, readPrice);
      registerSagaRoutes(app, { pool, stuckAfterMs: config.SAGA_STUCK_SECONDS * 1000 });
      serveEventFeed(ctx);
      engine.start();
      onClose(() => engine.stop());
    },
  });
}

/**
 * The catalog reader, behind the kit cache when `REDIS_URL` is set, with the follower of the
 * catalog's change feed that invalidates changed prices.
 *
 * The Redis client is order's own, not the kit's `ctx.redis`: that one is pinged at start and in
 * `/readyz`, so a Redis outage would stop order starting and take every replica out of the Service,
 * while the cache is made to price orders from the catalog meanwhile (each call bounded by the
 * cache's Redis timeout).
 */
function priceReader(ctx: ServiceContext<OrderConfig>, config: OrderConfig): PriceReader {
  const catalog = catalogPriceReader({
    catalogUrl: config.CATALOG_URL,
    timeoutMs: config.CATALOG_TIMEOUT_MS,
  });
  if (!config.REDIS_URL) return catalog;
  const redis = createRedis(config.REDIS_URL);
  const cache = new CacheAside<CachedPrice>({
    redis,
    name: 'price',
    schemaVersion: PRICE_CACHE_SCHEMA,
    prefix: config.REDIS_KEY_PREFIX,
    ttlMs: config.PRICE_CACHE_TTL_MS,
    graceMs: config.PRICE_CACHE_GRACE_MS,
    negativeTtlMs: config.PRICE_CACHE_NEGATIVE_TTL_MS,
    // a load is one catalog read, which gives up after CATALOG_TIMEOUT_MS itself
    loadTimeoutMs: config.CATALOG_TIMEOUT_MS + 100,
    redisTimeoutMs: config.PRICE_CACHE_REDIS_TIMEOUT_MS,
    metrics: ctx.metrics,
    logger: ctx.logger,
  });
  const follower =
    config.PRICE_CACHE_FEED === 'on'
      ? new CacheFeedFollower({
          cache,
          redis,
          source: 'catalog',
          url: config.CATALOG_URL,
          target: aggregateVersionTarget('product'),
          waitMs: config.PRICE_CACHE_FEED_WAIT_MS,
          metrics: ctx.metrics,
          logger: ctx.logger,
        })
      : undefined;
  follower?.start();
  ctx.onClose(async () => {
    await follower?.stop();
    redis.disconnect();
  });
  return cachedPriceReader(cache, catalog);
}

/**
 * The fault-injection hook behind `AIO_SAGA_CRASH`: SIGKILL this process at one saga boundary, on
 * the first attempt only, so the restarted process gets past it.
 */
function crashAt(spec: string): (e: BoundaryEvent) => void {
  return (e) => {
    if (e.attempt !== 1) return;
    const wanted = spec === 'tagged' ? tagOf(e.input) : spec;
    const here = `${e.point}:${e.step}${e.phase === 'compensation' ? ':compensation' : ''}`;
    if (wanted === here) {
      process.stderr.write(`AIO_SAGA_CRASH: killing order at ${here} (saga ${e.sagaId})\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

function tagOf(input: unknown): string | undefined {
  const customerId = (input as { customerId?: string }).customerId ?? '';
  return customerId.startsWith('crash:') ? customerId.slice('crash:'.length) : undefined;
}
