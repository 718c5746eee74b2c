/**
 * Thrown by {@link CacheAside.get} when the source failed (or did not answer in time) and no cached
 * value within the grace period can stand in for it.
 *
 * Callers map it to their own failure, e.g. the order service's `CATALOG_UNAVAILABLE`, instead of
 * letting it become a 500. `cause` is the loader's error, or a timeout.
 */
export class CacheUnavailableError extends Error {
  constructor(
    /** The cache's name (`product`). */
    public readonly cache: string,
    /** The key asked for. */
    public readonly key: string,
    /** Why the source gave nothing: the loader's error, or `timeout`. */
    public readonly reason: 'error' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(
      `cache ${cache}: no value for ${key}: the source ${reason === 'timeout' ? 'did not answer in time' : 'failed'} and nothing cached is within the grace period`,
      options,
    );
    this.name = 'CacheUnavailableError';
  }
}

/** Thrown (and caught inside the cache) when Redis did not answer within the command timeout. */
export class RedisTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`redis did not answer within ${timeoutMs} ms`);
    this.name = 'RedisTimeoutError';
  }
}
