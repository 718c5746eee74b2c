{{#if postgres}}
import { runService, type RunningService } from '@aio/kit';
import type { Config } from './config.js';
import { migrations } from './migrations.js';
import { registerExampleRoutes } from './routes/example.js';

/** Options for {@link startService}. */
export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers (tests pass false and call `close()`). @default true */
  readonly processHooks?: boolean;
}

/**
 * Starts {{name}}: Postgres pool and migrations{{#if redis}}, Redis{{/if}}, Fastify with `/healthz` and `/readyz`,
 * the routes, and graceful shutdown on SIGTERM.
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService<Config>> {
  return runService({
    name: '{{name}}',
    config,
    migrations,
{{#if redis}}
    redisUrl: config.REDIS_URL,
{{/if}}
    processHooks: options.processHooks ?? true,
    routes: ({ app, pool{{#if redis}}, redis{{/if}} }) =>
      registerExampleRoutes(app, { greeting: config.GREETING, pool{{#if redis}}, redis: redis!, cachePrefix: config.CACHE_PREFIX{{/if}} }),
  });
}
{{/if}}
{{#unless postgres}}
import { closeOnSignal, createLogger, createServer{{#if redis}}, createRedis{{/if}}, serverState } from '@aio/kit';
import { currentTracing } from '@aio/kit/tracing';
import type { Config } from './config.js';
import { registerExampleRoutes } from './routes/example.js';

/** Options for {@link startService}. */
export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers (tests pass false and call `close()`). @default true */
  readonly processHooks?: boolean;
}

/** A started service. */
export interface RunningService {
  /** Base URL it listens on, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Graceful shutdown: stop accepting, finish in-flight requests, close connections. */
  close(): Promise<void>;
}

/**
 * Starts {{name}}: {{#if redis}}Redis, {{/if}}Fastify with `/healthz` and `/readyz`, the routes, and graceful
 * shutdown on SIGTERM (`/readyz` answers 503 while draining).
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = createLogger({ name: '{{name}}', level: config.LOG_LEVEL });
{{#if redis}}
  const redis = createRedis(config.REDIS_URL);
  await redis.ping();
  const app = createServer({ logger, readinessChecks: { redis: () => redis.ping() } });
  registerExampleRoutes(app, { greeting: config.GREETING, redis, cachePrefix: config.CACHE_PREFIX });
{{/if}}
{{#unless redis}}
  const app = createServer({ logger });
  registerExampleRoutes(app, { greeting: config.GREETING });
{{/unless}}
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  logger.info({ url }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      serverState(app).draining = true;
      await app.close();
{{#if redis}}
      await redis.quit();
{{/if}}
      await currentTracing()?.forceFlush();
    })());
  if (options.processHooks ?? true) closeOnSignal(close, logger, config.SHUTDOWN_TIMEOUT_MS);
  return { url, close };
}
{{/unless}}
