import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, falling back to EVAL on NOSCRIPT.
 *
 * The one way kit services run Lua (inventory's reservations, the kit cache's versioned writes).
 *
 * The script cache is empty after a Redis restart, a failover or `SCRIPT FLUSH`; EVAL both runs the
 * script and caches it again, so the next call is an EVALSHA hit.
 *
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#script-cache
 */
export class LuaScript {
  /** SHA1 of the source, as Redis computes it. */
  public readonly sha: string;

  constructor(
    /** Name used in errors. */
    public readonly name: string,
    /** Lua source. */
    public readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Loads the script into the cache ahead of the first call. */
  async load(redis: Redis): Promise<void> {
    await redis.script('LOAD', this.source);
  }

  /** Runs the script; every key it touches must be in `keys` (Redis Cluster routes by them). */
  async run<T = unknown>(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<T> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return (await redis.eval(this.source, keys.length, ...keys, ...args)) as T;
    }
  }
}
