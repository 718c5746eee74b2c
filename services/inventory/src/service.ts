import { loadConfig, runService, serveEventFeed } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { inventoryConfigSchema } from './config.js';
import type { InventoryConfig } from './config.js';
import { migrations } from './migrations.js';
import { RedisRecovery } from './redis-recovery.js';
import { registerInventoryRoutes } from './routes.js';
import { StockLedger } from './stock-ledger.js';
import { StockStore } from './stock-store.js';
import { startSweeper } from './sweeper.js';

/** How often inventory looks for its epoch key, besides scripts and `/readyz` finding it missing. */
const EPOCH_CHECK_INTERVAL_MS = 1000;

/**
 * Starts the inventory service: migrations, Lua scripts loaded, Redis rebuilt from Postgres if it
 * lost its data (and watched for that every second), HTTP contract, event feed (`GET /events`),
 * expiry sweeper.
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 */
export async function startInventory(
  config: InventoryConfig = loadConfig(inventoryConfigSchema),
  processHooks = true,
): Promise<RunningService<InventoryConfig>> {
  let recovery: RedisRecovery | undefined;
  return runService({
    name: 'inventory',
    config,
    migrations,
    redisUrl: config.REDIS_URL,
    processHooks,
    readinessChecks: { stock: () => recovery!.readiness() },
    routes: async (ctx) => {
      const { app, pool, redis, logger, onClose } = ctx;
      const ledger = new StockLedger(pool);
      const store = new StockStore({
        redis: redis!,
        prefix: config.REDIS_KEY_PREFIX,
        ttlMs: config.RESERVATION_TTL_SECONDS * 1000,
        retentionSeconds: config.RESERVATION_RETENTION_SECONDS,
        durable: ledger,
        onDataLost: () => void recovery!.check().catch(() => undefined),
      });
      await store.loadScripts();
      recovery = new RedisRecovery(store, pool, logger);
      await recovery.check();
      onClose(recovery.start(EPOCH_CHECK_INTERVAL_MS));
      // After a reconnect, look at once: the server may be a new, empty one.
      redis!.on('ready', () => void recovery!.check().catch(() => undefined));
      registerInventoryRoutes(app, store, ledger);
      serveEventFeed(ctx); // reservation events, written by the ledger function
      if (config.SWEEP_INTERVAL_MS > 0)
        onClose(startSweeper(store, ledger, config.SWEEP_INTERVAL_MS, logger));
    },
  });
}
