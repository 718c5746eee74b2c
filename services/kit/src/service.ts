import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { ServiceConfig } from './config.js';
import type { AuthConfig } from './auth/auth-config.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { createPool } from './db.js';
import { createLogger } from './logger.js';
import { migrate } from './migrations.js';
import type { Migration } from './migrations.js';
import { createRedis } from './redis.js';
import { ServiceMetrics } from './metrics/index.js';
import { registerDependencyMetrics } from './resilience/dependency-metrics.js';
import { createServer, serverState } from './server.js';
import type { ReadinessCheck } from './server.js';
import { currentTracing } from './tracing/start-tracing.js';

/**
 * The config {@link runService} accepts: {@link ServiceConfig}, where a service without a database
 * leaves out `DATABASE_URL` (`serviceConfigSchema.omit({ DATABASE_URL: true })`).
 */
export type BaseServiceConfig = Omit<ServiceConfig, 'DATABASE_URL' | HttpLimitVariable | keyof AuthConfig> & {
  readonly DATABASE_URL?: string;
} & Partial<Pick<ServiceConfig, HttpLimitVariable>> &
  AuthConfig;

/** The env variables of {@link HttpLimits}; a config without them gets the defaults. */
type HttpLimitVariable =
  | 'HTTP_HEADERS_TIMEOUT_MS'
  | 'HTTP_REQUEST_TIMEOUT_MS'
  | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
  | 'HTTP_MAX_CONNECTIONS';

/**
 * The pool a service gets: a `Pool` when its config requires `DATABASE_URL`, `Pool | undefined` when
 * the variable is optional, and `undefined` when the config has no `DATABASE_URL`.
 */
export type ServicePool<C extends BaseServiceConfig> = C extends { readonly DATABASE_URL: string }
  ? Pool
  : 'DATABASE_URL' extends keyof C
    ? Pool | undefined
    : undefined;

/** What route and worker code receives from {@link runService}. */
export interface ServiceContext<C extends BaseServiceConfig = ServiceConfig> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly app: FastifyInstance;
  /** Pool of the service's own database, migrated; `undefined` for a config without `DATABASE_URL`. */
  readonly pool: ServicePool<C>;
  /** Present when `redisUrl` was given. */
  readonly redis?: Redis;
  /** The service's Prometheus registry (`GET /metrics`): register the service's own metrics here. */
  readonly metrics: ServiceMetrics;
  /** Registers a hook run at shutdown after HTTP drained and before the pools close (stop workers here). */
  onClose(hook: () => Promise<void> | void): void;
}

/** Options for {@link runService}. */
export interface ServiceProps<C extends BaseServiceConfig> {
  /** Service name, used in logs and `/readyz`. */
  readonly name: string;
  /** Config from {@link loadConfig}. */
  readonly config: C;
  /** Applied at start under an advisory lock; needs `DATABASE_URL` in the config. @default - none */
  readonly migrations?: readonly Migration[];
  /** Connect Redis and check it in `/readyz`. @default - no Redis */
  readonly redisUrl?: string;
  /** Registers routes (and may start background work through `ctx.onClose`). */
  readonly routes: (ctx: ServiceContext<C>) => Promise<void> | void;
  /** Extra `/readyz` checks. @default - db (when there is one) and redis (when given) only */
  readonly readinessChecks?: Record<string, ReadinessCheck>;
  /** Logger to use. @default - createLogger({ name, level: config.LOG_LEVEL }) */
  readonly logger?: Logger;
  /** Pool size. @default 10 */
  readonly poolMax?: number;
  /**
   * Install SIGTERM/SIGINT handlers and exit 1 when startup fails. Tests pass false and call `close()`.
   * @default true
   */
  readonly processHooks?: boolean;
}

/** A started service. */
export interface RunningService<C extends BaseServiceConfig = ServiceConfig> extends ServiceContext<C> {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Graceful shutdown: stop accepting, finish in-flight requests, run close hooks, close the pools. */
  close(): Promise<void>;
}

/**
 * Starts a service: logger, Postgres pool and migrations (when the config has `DATABASE_URL`), Redis
 * (when `redisUrl` is given), Fastify with probes, routes, listen.
 *
 * On SIGTERM it marks `/readyz` as draining, closes the listener (in-flight requests finish), runs the
 * close hooks in reverse order, closes Redis and the pool, flushes traces and exits 0; past
 * `SHUTDOWN_TIMEOUT_MS` it exits 1.
 *
 * @see https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
 */
export async function runService<C extends BaseServiceConfig>(
  props: ServiceProps<C>,
): Promise<RunningService<C>> {
  const processHooks = props.processHooks ?? true;
  const { config } = props;
  const logger = props.logger ?? createLogger({ name: props.name, level: config.LOG_LEVEL });
  const closers: Array<() => Promise<void> | void> = [];
  let pool: Pool | undefined;
  let redis: Redis | undefined;
  try {
    if (config.DATABASE_URL) {
      pool = createPool(config.DATABASE_URL, {
        max: props.poolMax ?? config.DB_POOL_MAX,
        applicationName: props.name,
      });
      const { applied } = await migrate(pool, props.migrations ?? []);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    } else if (props.migrations?.length) {
      throw new Error(
        `${props.name} has migrations but its config has no DATABASE_URL: add DATABASE_URL to the config schema and the environment, or drop the migrations`,
      );
    }
    if (props.redisUrl) {
      redis = createRedis(props.redisUrl);
      await redis.ping();
    }
    const db = pool;
    const checks: Record<string, ReadinessCheck> = {
      ...(db ? { db: () => db.query('SELECT 1') } : {}),
      ...props.readinessChecks,
    };
    const r = redis;
    if (r) checks.redis = () => r.ping();
    const metrics = new ServiceMetrics();
    // the circuit state of every dependency this process calls (saga participants, review, ...)
    registerDependencyMetrics(metrics);
    // every customer route needs it: without AUTH_ISSUER such a route refuses to be declared
    const auth = TokenVerifier.fromConfig(config);
    const warmed = await auth?.warm();
    if (warmed) logger.warn({ err: warmed, jwksUri: auth?.jwksUri }, 'token issuer keys not readable yet');
    const app = createServer({
      logger,
      ...(auth ? { auth } : {}),
      readinessChecks: checks,
      name: props.name,
      metrics,
      http: {
        ...(config.HTTP_HEADERS_TIMEOUT_MS ? { headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS } : {}),
        ...(config.HTTP_REQUEST_TIMEOUT_MS ? { requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS } : {}),
        ...(config.HTTP_KEEP_ALIVE_TIMEOUT_MS
          ? { keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS }
          : {}),
        ...(config.HTTP_MAX_CONNECTIONS ? { maxConnections: config.HTTP_MAX_CONNECTIONS } : {}),
      },
    });
    const ctx: ServiceContext<C> = {
      name: props.name,
      config,
      logger,
      app,
      pool: pool as ServicePool<C>,
      ...(redis ? { redis } : {}),
      metrics,
      onClose: (hook) => void closers.push(hook),
    };
    await props.routes(ctx);
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    logger.info({ url }, 'listening');

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        serverState(app).draining = true;
        await app.close();
        for (const hook of closers.reverse()) await hook();
        await r?.quit().catch(() => r.disconnect());
        await db?.end();
        await currentTracing()?.forceFlush();
      })());
    if (processHooks) closeOnSignal(close, logger, config.SHUTDOWN_TIMEOUT_MS);
    return { ...ctx, url, close };
  } catch (error) {
    await redis?.quit().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    if (!processHooks) throw error;
    logger.fatal({ err: error }, `startup failed: ${(error as Error).message}`);
    process.exit(1);
  }
}

/**
 * Runs `close` on SIGTERM or SIGINT, then exits 0; exits 1 if it fails or takes longer than
 * `timeoutMs`.
 *
 * `runService` installs it for you. Call it yourself only when you wire a server without
 * `runService`.
 *
 * @see https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#hook-handler-execution
 */
export function closeOnSignal(close: () => Promise<void>, logger: Logger, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
