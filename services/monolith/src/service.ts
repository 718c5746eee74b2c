import {
  loadConfig,
  runService,
  serveEventFeed,
  serviceConfigSchema,
  type RunningService,
  type ServiceConfig,
} from '@aio/kit';
import { registerCatalogRoutes } from './catalog-routes.js';
import { MONOLITH_MIGRATIONS } from './migrations.js';
import { registerOrderRoutes } from './order-routes.js';

/** The monolith's env: the kit's variables only. */
export const monolithConfigSchema = serviceConfigSchema;

/**
 * Runs the reference legacy monolith: one process, one database, the legacy public API under
 * `/api` (orders, stock, reviews, notifications) and its order events at `GET /events`. It is what
 * every route falls back to.
 *
 * @param processHooks install SIGTERM handling and exit on startup errors (tests pass false)
 */
export function runMonolith(config: ServiceConfig, processHooks = true): Promise<RunningService> {
  return runService({
    name: 'monolith',
    config,
    migrations: MONOLITH_MIGRATIONS,
    processHooks,
    routes: (ctx) => {
      registerOrderRoutes(ctx.app, ctx.pool);
      registerCatalogRoutes(ctx.app, ctx.pool);
      serveEventFeed(ctx); // its orders, for the order-history read model (legacy backfill from 0)
    },
  });
}

/** The process entry: config from env (exit 1 naming each bad variable), then {@link runMonolith}. */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runMonolith(loadConfig(monolithConfigSchema, env));
}
