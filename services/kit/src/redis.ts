import type * as IORedisModule from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { requireCjs } from './private/require.js';

export type { Redis } from 'ioredis';

/**
 * Creates an ioredis client.
 *
 * ioredis is loaded with `require` at call time, after tracing started, so commands become spans.
 * A command is retried at most twice across reconnects, so callers and `/readyz` see an outage quickly.
 *
 * @see https://github.com/redis/ioredis#connect-to-redis
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const { Redis: RedisClient } = requireCjs('ioredis') as typeof IORedisModule;
  const client = new RedisClient(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, ...options });
  client.on('error', () => undefined); // reconnects on its own; readiness reports the outage
  return client;
}
