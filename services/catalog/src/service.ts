import { loadConfig, runService } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { catalogConfigSchema } from './config.js';
import type { CatalogConfig } from './config.js';
import { migrations } from './migrations.js';
import { ProductStore } from './product-store.js';
import { registerCatalogRoutes } from './routes.js';

/**
 * Starts the catalog service: migrations, then the product API and its change feed.
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
    routes: ({ app, pool }) =>
      registerCatalogRoutes(app, new ProductStore(pool), { feedPollMs: config.FEED_POLL_MS }),
  });
}
