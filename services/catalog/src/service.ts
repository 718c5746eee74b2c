import { loadConfig, runService, serveEventFeed } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { catalogConfigSchema } from './config.js';
import type { CatalogConfig } from './config.js';
import { migrations } from './migrations.js';
import { ProductStore } from './product-store.js';
import { registerCatalogRoutes } from './routes.js';

/**
 * Starts the catalog service: migrations, then the product API and its change feed (`GET /events`).
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 */
export async function startCatalog(
  config: CatalogConfig = loadConfig(catalogConfigSchema),
  processHooks = true,
): Promise<RunningService<CatalogConfig>> {
  return runService({
    name: 'catalog',
    config,
    migrations,
    processHooks,
    routes: (ctx) => {
      registerCatalogRoutes(ctx.app, new ProductStore(ctx.pool));
      // every change's event, for caches and read models: the kit's gap-safe feed
      serveEventFeed(ctx, { pollMs: config.FEED_POLL_MS });
    },
  });
}
