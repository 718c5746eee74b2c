import {
  loadConfig,
  runService,
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
 * `/api` (orders, stock, reviews, notifications). It is what every route falls back to.
 *
 * @param processHooks install SIGTERM handling and exit on startup errors (tests pass false)
 */
export function runMonolith(config: ServiceConfig, processHooks = true): Promise<RunningService> {
  return runService({
    name: 'monolith',
    config,
    migrations: MONOLITH_MIGRATIONS,
    processHooks,
    routes: ({ app, pool }) => {
      registerOrderRoutes(app, pool);
      registerCatalogRoutes(app, pool);
    },
  });
}

/** The process entry: config from env (exit 1 naming each bad variable), then {@link runMonolith}. */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runMonolith(loadConfig(monolithConfigSchema, env));
}
