import { parseConfig, serviceConfigSchema, z, ConfigError } from '@aio/kit';

/**
 * Env of the order service. Durations are in seconds or milliseconds as their names say.
 */
export const orderConfigSchema = serviceConfigSchema.extend({
  /** Inventory base URL, e.g. `http://inventory:8080`. */
  INVENTORY_URL: z.url(),
  /** Payment base URL, e.g. `http://payment:8080`. */
  PAYMENT_URL: z.url(),
  /** Catalog base URL, e.g. `http://catalog:8080`: every order line is priced from it. */
  CATALOG_URL: z.url(),
  /**
   * Time one catalog read may take; then the order is refused with 503 `CATALOG_UNAVAILABLE` (a
   * blackholed catalog costs this, never a hang). @default 1000
   */
  CATALOG_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
  /**
   * Redis of the price cache (`redis://host:6379`). Without it order reads every price from the
   * catalog. Redis is an accelerator here, never a dependency: order starts and prices orders while
   * it is down (each read then goes to the catalog).
   *
   * @default - no cache
   */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Prefix of every key order writes in Redis. @default 'order:' */
  REDIS_KEY_PREFIX: z.string().default('order:'),
  /**
   * How long a cached price is used before the catalog is asked again. The catalog's change feed
   * invalidates a changed price at once; this bounds how old a price can be if the feed stalls.
   * @default 30000
   */
  PRICE_CACHE_TTL_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * How long past its TTL a cached price still prices orders while the catalog cannot answer; then
   * orders get 503 `CATALOG_UNAVAILABLE`. @default 300000
   */
  PRICE_CACHE_GRACE_MS: z.coerce.number().int().nonnegative().default(300_000),
  /** How long "no such SKU" is cached (a create from the feed ends it at once). @default 5000 */
  PRICE_CACHE_NEGATIVE_TTL_MS: z.coerce.number().int().positive().default(5_000),
  /**
   * A price-cache Redis call taking longer fails, and the price is read from the catalog (then Redis
   * is skipped for a second). @default 50
   */
  PRICE_CACHE_REDIS_TIMEOUT_MS: z.coerce.number().int().positive().default(50),
  /**
   * `on`: follow the catalog's change feed (`GET /events`) and invalidate changed prices; `off`
   * leaves the TTL alone (tests of the TTL bound). @default on
   */
  PRICE_CACHE_FEED: z.enum(['on', 'off'], { error: "must be 'on' or 'off'" }).default('on'),
  /**
   * Long-poll of one read of the catalog's feed. It must end inside the mesh's route timeout of the
   * catalog (its tier's: 1 s), or the sidecar cuts every idle poll with a 504. @default 500
   *
   * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
   */
  PRICE_CACHE_FEED_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(500),
  /** Time after which an order saga that has not reached its pivot compensates. @default 30 */
  SAGA_DEADLINE_SECONDS: z.coerce.number().positive().default(30),
  /** Inventory's reservation TTL (the same variable inventory reads). @default 900 */
  RESERVATION_TTL_SECONDS: z.coerce.number().positive().default(900),
  /** Safety margin between the saga deadline and the reservation TTL (lease expiry and commit retries). @default 10 */
  SAGA_TTL_MARGIN_SECONDS: z.coerce.number().nonnegative().default(10),
  /** Lease of a claimed saga; a crashed replica's sagas resume after it. @default 5000 */
  SAGA_LEASE_MS: z.coerce.number().int().positive().default(5000),
  /** How often the worker claims unfinished sagas. @default 500 */
  SAGA_POLL_MS: z.coerce.number().int().positive().default(500),
  /** An unfinished saga not updated for this long is listed as stuck. @default 60 */
  SAGA_STUCK_SECONDS: z.coerce.number().positive().default(60),
  /** Timeout of one participant call. @default 2000 */
  PARTICIPANT_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** Postgres pool size. @default 20 */
  DB_POOL_MAX: z.coerce.number().int().positive().default(20),
  /**
   * Test hook. `before:<step>` or `after:<step>` (optionally `:compensation`) kills this process with
   * SIGKILL at that saga boundary, on the first attempt of the step. `tagged` does the same for
   * orders whose customerId is `crash:<spec>`. Never set it in production.
   *
   * @default - no fault injection
   */
  AIO_SAGA_CRASH: z
    .string()
    .regex(
      /^((before|after):[A-Za-z]+(:compensation)?|tagged)$/,
      'must be before:<step>, after:<step>[:compensation] or tagged',
    )
    .optional(),
});

/** The order service config. */
export type OrderConfig = z.infer<typeof orderConfigSchema>;

/**
 * Parses and cross-checks the env: the saga deadline plus the margin must fit inside inventory's
 * reservation TTL, otherwise a slow saga could commit a reservation that already expired and was
 * given back.
 *
 * @throws ConfigError naming the invalid variables
 */
export function parseOrderConfig(env: NodeJS.ProcessEnv = process.env): OrderConfig {
  const config = parseConfig(orderConfigSchema, env);
  if (config.SAGA_DEADLINE_SECONDS + config.SAGA_TTL_MARGIN_SECONDS >= config.RESERVATION_TTL_SECONDS) {
    throw new ConfigError([
      {
        name: 'SAGA_DEADLINE_SECONDS',
        message: `must be shorter than RESERVATION_TTL_SECONDS (${config.RESERVATION_TTL_SECONDS}) minus SAGA_TTL_MARGIN_SECONDS (${config.SAGA_TTL_MARGIN_SECONDS}), got ${config.SAGA_DEADLINE_SECONDS}; lower the deadline or raise inventory's TTL`,
      },
    ]);
  }
  return config;
}
