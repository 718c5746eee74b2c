import { loadConfig, runService } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { inventoryConfigSchema } from './config.js';
import type { InventoryConfig } from './config.js';
import { migrations } from './migrations.js';
import { registerInventoryRoutes } from './routes.js';
import { StockLedger } from './stock-ledger.js';
import { StockStore } from './stock-store.js';
import { startSweeper } from './sweeper.js';

/**
 * Starts the inventory service: migrations, Lua scripts loaded, HTTP contract, expiry sweeper.
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 */
export async function startInventory(
  config: InventoryConfig = loadConfig(inventoryConfigSchema),
  processHooks = true,
): Promise<RunningService<InventoryConfig>> {
  return runService({
    name: 'inventory',
    config,
    migrations,
    redisUrl: config.REDIS_URL,
    processHooks,
    routes: async ({ app, pool, redis, logger, onClose }) => {
      const store = new StockStore({
        redis: redis!,
        prefix: config.REDIS_KEY_PREFIX,
        ttlMs: config.RESERVATION_TTL_SECONDS * 1000,
        retentionSeconds: config.RESERVATION_RETENTION_SECONDS,
      });
      await store.loadScripts();
      const ledger = new StockLedger(pool);
      registerInventoryRoutes(app, store, ledger);
      if (config.SWEEP_INTERVAL_MS > 0)
        onClose(startSweeper(store, ledger, config.SWEEP_INTERVAL_MS, logger));
    },
  });
}
