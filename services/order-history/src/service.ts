import { declareCalls, feedOperation, loadConfig, runService } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { principalCustomer } from './caller.js';
import { orderHistoryConfigSchema, type OrderHistoryConfig } from './config.js';
import { registerHistoryRoutes } from './history-routes.js';
import { registerHistoryMetrics, registerHistoryStatus } from './history-status.js';
import { migrations } from './migrations.js';
import { Projector } from './projector.js';
import { sourcesOf } from './sources.js';

/** Options of {@link startOrderHistory}. */
export interface OrderHistoryOptions {
  /** Called with each projected event's lag in seconds (the benchmark's histogram). */
  readonly onProjected?: (source: string, lagSeconds: number) => void;
}

/**
 * Starts order-history: its own database (the projection), one projector loop per source feed,
 * `GET /me/orders` for the caller and the operator status.
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 */
export async function startOrderHistory(
  config: OrderHistoryConfig = loadConfig(orderHistoryConfigSchema),
  processHooks = true,
  options: OrderHistoryOptions = {},
): Promise<RunningService<OrderHistoryConfig> & { projector: Projector }> {
  let projector: Projector | undefined;
  const running = await runService({
    name: 'order-history',
    config,
    migrations,
    processHooks,
    routes: ({ app, pool, logger, onClose, metrics }) => {
      const sources = sourcesOf(config);
      // the contract lists the feeds it reads (x-aio-calls): the mesh lets it call exactly these
      // services' feeds; the monolith's (platform.yaml `calls: [monolith]`) gives it MONOLITH_URL and
      // egress to the monolith, which is outside the mesh
      declareCalls(
        app,
        sources.map((s) => feedOperation(s.name)),
      );
      projector = new Projector({
        pool,
        sources,
        logger,
        batch: config.HISTORY_BATCH,
        waitMs: config.HISTORY_WAIT_MS,
        ...(config.AIO_HISTORY_CRASH_AFTER ? { crashAfter: config.AIO_HISTORY_CRASH_AFTER } : {}),
        onProjected: (source, lag) => {
          projected.observe({ source }, lag);
          options.onProjected?.(source, lag);
        },
      });
      const projected = registerHistoryMetrics(metrics, projector);
      registerHistoryRoutes(app, pool, principalCustomer);
      registerHistoryStatus(app, projector);
      projector.start();
      onClose(() => projector!.stop());
    },
  });
  return { ...running, projector: projector! };
}
