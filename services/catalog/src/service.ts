import { declareCalls, loadConfig, runService, serveEventFeed } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { catalogConfigSchema } from './config.js';
import type { CatalogConfig } from './config.js';
import { migrations } from './migrations.js';
import { ProductStore } from './product-store.js';
import { REVIEW_CALLS, reviewSummaryReader } from './review-summary.js';
import { registerCatalogRoutes } from './routes.js';

/**
 * Starts the catalog service: migrations, then the product API (the product page reads review's
 * rating summary through the kit's dependency wrapper) and its change feed (`GET /events`).
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
      // the route contract lists them (x-aio-calls): the mesh lets catalog call exactly these
      declareCalls(ctx.app, Object.values(REVIEW_CALLS));
      const reviews = reviewSummaryReader({
        reviewUrl: config.REVIEW_URL,
        timeoutMs: config.REVIEW_TIMEOUT_MS,
        failureThreshold: config.REVIEW_FAILURE_THRESHOLD,
        halfOpenAfterMs: config.REVIEW_HALF_OPEN_MS,
        maxConcurrent: config.REVIEW_MAX_CONCURRENT,
        logger: ctx.logger,
      });
      registerCatalogRoutes(ctx.app, new ProductStore(ctx.pool), reviews.read);
      // every change's event, for caches and read models: the kit's gap-safe feed
      serveEventFeed(ctx, { pollMs: config.FEED_POLL_MS });
    },
  });
}
