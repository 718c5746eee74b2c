import { runService, type RunningService } from '@aio/kit';
import type { Config } from './config.js';
{{#if postgres}}
import { migrations } from './migrations.js';
{{/if}}
import { registerExampleRoutes } from './routes/example.js';

/** Options for {@link startService}. */
export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers (tests pass false and call `close()`). @default true */
  readonly processHooks?: boolean;
}

/**
 * Starts {{name}}: {{#if postgres}}Postgres pool and migrations, {{/if}}{{#if redis}}Redis, {{/if}}Fastify with `/healthz` and `/readyz`,
 * the routes, and graceful shutdown on SIGTERM (`/readyz` answers 503 while draining).
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService<Config>> {
  return runService({
    name: '{{name}}',
    config,
{{#if postgres}}
    migrations,
{{/if}}
{{#if redis}}
    redisUrl: config.REDIS_URL,
{{/if}}
    processHooks: options.processHooks ?? true,
    routes: ({ app{{#if postgres}}, pool{{/if}}{{#if redis}}, redis{{/if}} }) =>
      registerExampleRoutes(app, { greeting: config.GREETING{{#if postgres}}, pool{{/if}}{{#if redis}}, redis: redis!, cachePrefix: config.CACHE_PREFIX{{/if}} }),
  });
}
