import { serviceConfigSchema, z } from '@aio/kit';

/**
 * Inventory's env: the kit's variables plus Redis and the reservation timings.
 *
 * `RESERVATION_TTL_SECONDS` must exceed the order saga's deadline plus its retries, or a slow saga
 * commits a reservation that already expired (the commit then fails with 409 EXPIRED, never oversells).
 */
export const inventoryConfigSchema = serviceConfigSchema.extend({
  /** `redis://host:6379`. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// url'),
  /** Prefix of every key; the `{stock}` hash tag follows it. @default inventory: */
  REDIS_KEY_PREFIX: z.string().default('inventory:'),
  /** How long a reservation holds stock. @default 900 */
  RESERVATION_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  /** How long finished reservation records stay in Redis for idempotent replies. @default 604800 (7 days) */
  RESERVATION_RETENTION_SECONDS: z.coerce.number().int().positive().default(604_800),
  /** Sweeper period; 0 disables it. @default 1000 */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
});

/** Inventory config. */
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
