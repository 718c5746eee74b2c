import { createRedis, parseConfig } from '@aio/kit';
import type { Redis, RunningService } from '@aio/kit';
import {
  callJson,
  createTestDatabase,
  deleteRedisKeys,
  TEST_REDIS_URL,
  testRedisPrefix,
} from '@aio/kit/testing';
import type { TestDatabase } from '@aio/kit/testing';
import { inventoryConfigSchema } from '../src/config.js';
import type { InventoryConfig } from '../src/config.js';
import { startInventory } from '../src/service.js';
import { StockLedger } from '../src/stock-ledger.js';
import { StockStore } from '../src/stock-store.js';

/** The union of the fields inventory responses carry (tests read what they expect). */
export interface InventoryBody {
  readonly orderId: string;
  readonly status: string | number;
  readonly sku?: string;
  readonly available?: number;
  readonly reserved?: number;
  readonly sold?: number;
  readonly expiresAt?: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly items?: readonly { sku: string; quantity: number }[];
  readonly 'invalid-params': readonly { name: string; reason: string }[];
}

/** One inventory service on its own database and key prefix, plus direct handles for assertions. */
export interface InventoryHarness {
  readonly service: RunningService<InventoryConfig>;
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly redis: Redis;
  readonly store: StockStore;
  readonly ledger: StockLedger;
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: InventoryBody; type: string }>;
  stop(): Promise<void>;
}

/** Starts inventory with the sweeper off (tests sweep explicitly). */
export async function startHarness(label: string): Promise<InventoryHarness> {
  const db = await createTestDatabase(label);
  const prefix = testRedisPrefix(label);
  const config = parseConfig(inventoryConfigSchema, {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SWEEP_INTERVAL_MS: '0',
  });
  const service = await startInventory(config, false);
  const redis = createRedis(TEST_REDIS_URL);
  const store = new StockStore({ redis, prefix, ttlMs: 900_000 });
  const ledger = new StockLedger(service.pool);
  return {
    service,
    db,
    prefix,
    redis,
    store,
    ledger,
    call: (method, path, body) => callJson<InventoryBody>(service.url, method, path, body),
    async stop() {
      await service.close();
      await deleteRedisKeys(redis, prefix);
      await redis.quit();
      await db.drop();
    },
  };
}
