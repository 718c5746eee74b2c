import { Redis } from 'ioredis';
import pg from 'pg';
import { StackError } from './stack-error.js';

const CONNECT_TIMEOUT_MS = 3000;

/** `host:port` of a server URL, with the scheme's default port. */
export function serverAddress(url: string, defaultPort: number): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || defaultPort}`;
}

/**
 * Checks that PostgreSQL and Redis answer before anything is created or started, so that a server
 * that is down is named ("PostgreSQL at 127.0.0.1:5432 is not reachable") instead of surfacing as a
 * service that exits during startup.
 *
 * @param hint what to do, appended to the message (e.g. which flag points at another server)
 * @throws StackError naming every server that did not answer
 */
export async function assertReachable(
  pgUrl: string,
  redisUrl: string | undefined,
  hint: string,
): Promise<void> {
  const problems = (
    await Promise.all([checkPostgres(pgUrl), redisUrl === undefined ? undefined : checkRedis(redisUrl)])
  ).filter((p): p is string => p !== undefined);
  if (problems.length) throw new StackError(`${problems.join('; ')}; ${hint}`);
}

async function checkPostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined); // a later socket error is reported by connect/query
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return describe('PostgreSQL', serverAddress(url, 5432), err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let socketError: unknown;
  redis.on('error', (err) => (socketError = err)); // connect() itself only says "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (err) {
    return describe('Redis', serverAddress(url, 6379), socketError ?? err);
  } finally {
    redis.disconnect();
  }
}

function describe(server: string, address: string, err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  const unreachable = ['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET'];
  if (
    (code && unreachable.includes(code)) ||
    /timeout|closed|ECONNREFUSED|Connection is closed/i.test(message ?? '')
  ) {
    return `${server} at ${address} is not reachable (${code ?? message})`;
  }
  return `${server} at ${address} refused the connection: ${message ?? String(err)}`;
}
