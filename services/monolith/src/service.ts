import { loadConfig, runService, serviceConfigSchema } from '@aio/kit';
import { MONOLITH_MIGRATIONS } from './migrations.js';
import { registerOrderRoutes } from './order-routes.js';
import { registerCatalogRoutes } from './catalog-routes.js';

/** The monolith's env: the kit's variables only. */
export const monolithConfigSchema = serviceConfigSchema;

/**
 * Starts the reference legacy monolith: one process, one database, the legacy public API under
 * `/api` (orders, stock, reviews, notifications). It is what every route falls back to.
 */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(monolithConfigSchema, env);
  await runService({
    name: 'monolith',
    config,
    migrations: MONOLITH_MIGRATIONS,
    routes: ({ app, pool }) => {
      registerOrderRoutes(app, pool);
      registerCatalogRoutes(app, pool);
    },
  });
}
