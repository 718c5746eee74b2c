import { z } from 'zod';
import { authConfigShape } from './auth/auth-config.js';

export { z };

/**
 * Env variables every service reads.
 *
 * Extend it with the service's own variables: `serviceConfigSchema.extend({ REDIS_URL: z.url() })`.
 * Numbers are coerced from strings because env values are always strings.
 */
export const serviceConfigSchema = z.object({
  /** Port the HTTP server listens on. @default 8080 */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Interface to bind. @default 0.0.0.0 */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** The service's own Postgres database, `postgres://user@host:5432/db`. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// url'),
  /** pino level. @default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Hard limit for a graceful shutdown before the process exits 1. @default 10000 */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * Postgres connections this process may hold. Replicas × this must stay under the database's
   * max_connections (100 on a default server). @default 10
   */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  /** Time a client has to send the complete request headers (slowloris). @default 10000 */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  /** Time a client has to send the complete request, headers and body (slow bodies). @default 30000 */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  /**
   * How long an idle keep-alive connection stays open after a response. Above the 60 s idle timeout of
   * an AWS load balancer, so the proxy (not this server) closes first. @default 72000
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1).default(72_000),
  /** Open connections this process accepts; more are closed at once. @default 1000 */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1000),
  /** The customer token check (`AUTH_ISSUER`, `AUTH_AUDIENCE`, ...): see auth/auth-config.ts. */
  ...authConfigShape,
});

/** The config type produced by {@link serviceConfigSchema}. */
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** One invalid env variable. */
export interface ConfigIssue {
  /** The env variable name, e.g. `PORT`. */
  readonly name: string;
  /** What is wrong, e.g. `is required`. */
  readonly message: string;
}

/**
 * Thrown by {@link parseConfig} when env variables are missing or invalid.
 *
 * The message has one line per variable: `PORT: must be a number, got "abc"`.
 */
export class ConfigError extends Error {
  /** Every invalid variable, in schema order. */
  public readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${i.name}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const SECRET_NAME = /URL|PASSWORD|SECRET|TOKEN|KEY/i;

/**
 * Validates env variables against a zod object schema and returns the typed config.
 *
 * Values of variables whose name looks secret (`*_URL`, `*PASSWORD*`, `*TOKEN*`...) are never echoed.
 *
 * @throws ConfigError naming every missing or invalid variable
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue): ConfigIssue => {
    const name = issue.path.map(String).join('.') || '(env)';
    const raw = env[name];
    if (raw === undefined || raw === '') return { name, message: 'is required' };
    const shown = SECRET_NAME.test(name) ? '(value hidden)' : JSON.stringify(raw);
    return { name, message: `${issue.message.toLowerCase()}, got ${shown}` };
  });
  throw new ConfigError(issues);
}

/**
 * Like {@link parseConfig}, but on error prints one line per variable to stderr and exits 1.
 *
 * Call it at the top of a service's `main`, before opening any connection.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) process.stderr.write(`config error: ${issue.name}: ${issue.message}\n`);
    process.exit(1);
  }
}
