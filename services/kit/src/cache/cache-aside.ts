import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ServiceMetrics } from '../metrics/index.js';
import { CacheUnavailableError } from './cache-errors.js';
import { CacheKeys } from './cache-keys.js';
import { CacheMetrics } from './cache-metrics.js';
import type { LoadReason, StaleReason } from './cache-metrics.js';
import { invalidateScript, readScript, releaseScript, writeScript } from './cache-scripts.js';
import { RedisGuard } from './redis-guard.js';
import { SingleFlight } from './single-flight.js';
import { shouldRefreshEarly } from './xfetch.js';

/** A value as the source returns it: with the version that changes on every update. */
export interface Versioned<T> {
  readonly value: T;
  /** A non-negative integer that grows with every change of the value (a row version). */
  readonly version: number;
}

/** What {@link CacheAside.get} returns for a key the source knows. */
export interface CachedValue<T> extends Versioned<T> {
  /** True when the value is past its TTL, served because the source failed or is being refreshed. */
  readonly stale: boolean;
}

/**
 * Loads one key from the source of truth: the value and its version, or `null` when the source has
 * no such key (cached for `negativeTtlMs`). `signal` aborts when the load timeout passes.
 */
export type CacheLoader<T> = (
  key: string,
  context: { readonly signal: AbortSignal },
) => Promise<Versioned<T> | null>;

/** Options for {@link CacheAside}. */
export interface CacheAsideProps {
  /** The Redis client (a service's `ctx.redis`); the cache bounds each call itself. */
  readonly redis: Redis;
  /** The cache's name, in its keys and metric labels: lowercase, e.g. `product`. */
  readonly name: string;
  /** The shape of the cached value; bump it when the shape changes, and old keys are never read. */
  readonly schemaVersion: number;
  /** Prefix of every key (the service's `REDIS_KEY_PREFIX`; tests pass `testRedisPrefix(...)`). @default '' */
  readonly prefix?: string;
  /** How long a loaded value is fresh, ms. @default 60000 */
  readonly ttlMs?: number;
  /** How long past its TTL a value may stand in while the source fails, ms. @default 300000 */
  readonly graceMs?: number;
  /** How long a "not found" is cached, ms. @default 5000 */
  readonly negativeTtlMs?: number;
  /** A load taking longer fails (its `signal` aborts). @default 2000 */
  readonly loadTimeoutMs?: number;
  /** With a stale value in hand, how long a read waits for its refresh before serving it, ms. @default 100 */
  readonly staleTimeoutMs?: number;
  /** How long one process may load a key before another may try, ms. @default - loadTimeoutMs + 500 */
  readonly leaseMs?: number;
  /** How often a read waiting for another process's load looks again, ms. @default 20 */
  readonly pollMs?: number;
  /** A Redis call taking longer fails, and the read goes to the source, ms. @default 50 */
  readonly redisTimeoutMs?: number;
  /** After a Redis failure, reads skip Redis for this long, ms. @default 1000 */
  readonly redisRetryMs?: number;
  /** XFetch's beta: > 1 refreshes earlier, 0 never early. @default 1 */
  readonly beta?: number;
  /** Registry for the cache's metrics (the service's `ctx.metrics`). @default - a registry of its own, not served */
  readonly metrics?: ServiceMetrics;
  /** Where Redis and background-refresh failures are logged. @default - not logged */
  readonly logger?: Logger;
}

/** An entry as the read script returns it. */
interface EntryRead {
  readonly found: boolean;
  readonly result: CachedValue<unknown> | null;
  readonly expiresAt: number;
  readonly deltaMs: number;
  readonly gen: string;
  readonly leased: boolean;
}

/** How one read was answered, so each caller joining a flight counts it. */
type Served =
  | { readonly kind: 'hit'; readonly result: CachedValue<unknown> | null }
  | { readonly kind: 'miss'; readonly result: CachedValue<unknown> | null }
  | { readonly kind: 'stale'; readonly reason: StaleReason; readonly result: CachedValue<unknown> | null };

const LOAD_TIMEOUT = Symbol('load timeout');

/**
 * A cache-aside read cache for cross-service reads, on Redis, safe under stampedes and outages.
 *
 * - **Keys**: `<prefix>cache:<name>:v<schemaVersion>:{<key>}` ({@link CacheKeys}).
 * - **Stampedes**: one load per key per process at a time ({@link SingleFlight}), and a lease in Redis
 *   taken in the same round trip as the read, so across processes one loads and the others poll for
 *   its value: a cold key is loaded about once, at most once per process.
 * - **Early refresh**: a fresh hit is refreshed in the background with XFetch's probability
 *   ({@link shouldRefreshEarly}), so a hot key is reloaded before it expires.
 * - **Stale-while-error**: past its TTL a value is kept for `graceMs`; a read that finds it expired
 *   refreshes it, serves it if the load fails or takes longer than `staleTimeoutMs`, and serves it at
 *   once while another process refreshes. With nothing within grace, a failed load throws
 *   {@link CacheUnavailableError}.
 * - **Negative caching**: a `null` from the loader is cached for `negativeTtlMs`.
 * - **Versioned writes**: a loaded value is written by a Lua compare, never over a newer version nor
 *   after an invalidation it predates (the stale-set race; see `cache-scripts.ts`).
 * - **Invalidation**: {@link invalidate} from a change feed, the TTL as the safety net.
 * - **Redis down or blackholed**: each Redis call is bounded by `redisTimeoutMs`, then Redis is skipped
 *   for `redisRetryMs` ({@link RedisGuard}); reads go to the source, still single-flight per process.
 *
 * @see https://docs.aws.amazon.com/whitepapers/latest/database-caching-strategies-using-redis/caching-patterns.html
 */
export class CacheAside<T> {
  /** The cache's name. */
  public readonly name: string;
  /** Key names of this cache (its prefix, for cleanup). */
  public readonly keys: CacheKeys;
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly keyTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly loadTimeoutMs: number;
  private readonly staleTimeoutMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly beta: number;
  private readonly guard: RedisGuard;
  private readonly metrics: CacheMetrics;
  private readonly logger: Logger | undefined;
  private readonly flights = new SingleFlight<Served>();
  private readonly refreshing = new Set<string>();

  constructor(props: CacheAsideProps) {
    this.name = props.name;
    this.keys = new CacheKeys(props.prefix ?? '', props.name, props.schemaVersion);
    this.redis = props.redis;
    this.ttlMs = positive(props, 'ttlMs', 60_000);
    this.negativeTtlMs = positive(props, 'negativeTtlMs', 5_000);
    this.loadTimeoutMs = positive(props, 'loadTimeoutMs', 2_000);
    this.staleTimeoutMs = positive(props, 'staleTimeoutMs', 100);
    this.leaseMs = positive(props, 'leaseMs', this.loadTimeoutMs + 500);
    this.pollMs = positive(props, 'pollMs', 20);
    this.beta = props.beta ?? 1;
    const graceMs = props.graceMs ?? 300_000;
    if (!(graceMs >= 0)) throw new Error(`cache ${props.name}: graceMs must be 0 or more, got ${graceMs}`);
    // The key outlives every value's TTL by the grace period, and any load in flight by its lease.
    this.keyTtlMs = Math.max(this.ttlMs, this.negativeTtlMs) + graceMs + this.leaseMs;
    this.guard = new RedisGuard({
      timeoutMs: positive(props, 'redisTimeoutMs', 50),
      openMs: positive(props, 'redisRetryMs', 1_000),
    });
    this.metrics = new CacheMetrics(props.metrics ?? new ServiceMetrics({ defaultMetrics: false }));
    this.logger = props.logger;
  }

  /**
   * The value of `key`: from the cache, or from `loader` (written back for the others).
   *
   * @returns the value and its version, or `null` when the source has no such key
   * @throws CacheUnavailableError when the source failed and nothing within the grace period stands in
   */
  async get(key: string, loader: CacheLoader<T>): Promise<CachedValue<T> | null> {
    const entryKey = this.keys.entry(key);
    const served = await this.flights
      .run(entryKey, () => this.resolve(key, entryKey, loader as CacheLoader<unknown>))
      .catch((error: unknown) => {
        if (error instanceof CacheUnavailableError)
          this.metrics.errors.inc({ cache: this.name, kind: 'unavailable' });
        throw error;
      });
    const labels = { cache: this.name };
    if (served.kind === 'hit') this.metrics.hits.inc(labels);
    else if (served.kind === 'miss') this.metrics.misses.inc(labels);
    else this.metrics.stale.inc({ ...labels, reason: served.reason });
    return served.result as CachedValue<T> | null;
  }

  /**
   * Drops the cached value of `key`, so the next read loads it; call it for every event of the
   * source's change feed. With the event's `version`, an entry already at that version or newer is
   * kept, and no load that read an older version can write it back; without one, no load that began
   * before this call can.
   *
   * @throws the Redis error (or timeout) when Redis cannot be reached: keep the feed's position and retry
   */
  async invalidate(key: string, version?: number): Promise<boolean> {
    if (version !== undefined) checkVersion(this.name, key, version);
    const entryKey = this.keys.entry(key);
    const dropped = await this.guard.run(() =>
      invalidateScript.run<number>(
        this.redis,
        [entryKey],
        [version === undefined ? '' : version, this.keyTtlMs],
      ),
    );
    return dropped === 1;
  }

  private async resolve(key: string, entryKey: string, loader: CacheLoader<unknown>): Promise<Served> {
    const token = randomUUID();
    const read = await this.read(entryKey, token);
    if (!read) return { kind: 'miss', result: await this.loadDirect(key, loader) };
    const now = Date.now();
    if (read.found && read.expiresAt > now) {
      if (shouldRefreshEarly(now, read.expiresAt, read.deltaMs, this.beta)) {
        this.refreshEarly(key, entryKey, read.gen, loader);
      }
      return { kind: 'hit', result: read.result };
    }
    if (read.found) {
      if (!read.leased) return { kind: 'stale', reason: 'refreshing', result: asStale(read.result) };
      return this.refreshExpired(key, entryKey, token, read, loader);
    }
    if (read.leased) {
      return {
        kind: 'miss',
        result: await this.loadAndWrite(key, entryKey, token, read.gen, loader, 'miss', true),
      };
    }
    return this.waitForLoad(key, entryKey, token, loader);
  }

  /** Polls while another process holds the lease, until its value lands or the lease frees up; past a load's time, loads itself. */
  private async waitForLoad(
    key: string,
    entryKey: string,
    token: string,
    loader: CacheLoader<unknown>,
  ): Promise<Served> {
    const deadline = Date.now() + this.loadTimeoutMs;
    for (;;) {
      await sleep(this.pollMs);
      const read = await this.read(entryKey, token);
      if (!read) return { kind: 'miss', result: await this.loadDirect(key, loader) };
      if (read.found) {
        if (read.expiresAt > Date.now()) return { kind: 'miss', result: read.result };
        return { kind: 'stale', reason: 'refreshing', result: asStale(read.result) };
      }
      if (read.leased) {
        return {
          kind: 'miss',
          result: await this.loadAndWrite(key, entryKey, token, read.gen, loader, 'miss', true),
        };
      }
      // The lease may be an orphan (a read that timed out here but ran in Redis later took it):
      // past a load's time, load without it; the write is still versioned.
      if (Date.now() >= deadline) {
        return {
          kind: 'miss',
          result: await this.loadAndWrite(key, entryKey, token, read.gen, loader, 'miss', false),
        };
      }
    }
  }

  /** Refreshes an expired value under the lease; serves the old one if the load fails or is slow. */
  private async refreshExpired(
    key: string,
    entryKey: string,
    token: string,
    read: EntryRead,
    loader: CacheLoader<unknown>,
  ): Promise<Served> {
    // On failure the lease is kept until it expires: the other processes serve the stale value
    // meanwhile instead of asking a failing source again.
    const load = this.loadAndWrite(key, entryKey, token, read.gen, loader, 'expired', false);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<typeof LOAD_TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(LOAD_TIMEOUT), this.staleTimeoutMs);
    });
    try {
      const fresh = await Promise.race([load, slow]);
      if (fresh === LOAD_TIMEOUT) {
        load.catch(() => undefined); // finishes in the background, and writes if it succeeds
        return { kind: 'stale', reason: 'timeout', result: asStale(read.result) };
      }
      return { kind: 'miss', result: fresh };
    } catch {
      return { kind: 'stale', reason: 'error', result: asStale(read.result) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** XFetch: refreshes a fresh value in the background, once per process and, through the lease, once across them. */
  private refreshEarly(key: string, entryKey: string, gen: string, loader: CacheLoader<unknown>): void {
    if (this.refreshing.has(entryKey)) return;
    this.refreshing.add(entryKey);
    const token = randomUUID();
    void (async () => {
      const leased = await this.guard.run(() =>
        this.redis.set(this.keys.lease(entryKey), token, 'PX', this.leaseMs, 'NX'),
      );
      if (leased === 'OK') await this.loadAndWrite(key, entryKey, token, gen, loader, 'early', true);
    })()
      .catch((error: unknown) =>
        this.logger?.warn({ err: error, cache: this.name, key }, 'early refresh failed'),
      )
      .finally(() => this.refreshing.delete(entryKey));
  }

  /** Calls the loader and writes its value with the versioned compare. */
  private async loadAndWrite(
    key: string,
    entryKey: string,
    token: string,
    gen: string,
    loader: CacheLoader<unknown>,
    reason: LoadReason,
    releaseOnError: boolean,
  ): Promise<CachedValue<unknown> | null> {
    const started = performance.now();
    let loaded: Versioned<unknown> | null;
    try {
      loaded = await this.load(key, loader, reason);
    } catch (error) {
      if (releaseOnError) {
        await this.guard
          .run(() => releaseScript.run(this.redis, [this.keys.lease(entryKey)], [token]))
          .catch((e: unknown) => this.redisFailed(e));
      }
      throw error;
    }
    const deltaMs = Math.max(1, Math.round(performance.now() - started));
    const exp = Date.now() + (loaded ? this.ttlMs : this.negativeTtlMs);
    try {
      const written = await this.guard.run(() =>
        writeScript.run<number>(
          this.redis,
          [entryKey, this.keys.lease(entryKey)],
          [
            loaded ? loaded.version : 0,
            loaded ? JSON.stringify(loaded.value) : '',
            exp,
            deltaMs,
            gen,
            this.keyTtlMs,
            token,
          ],
        ),
      );
      if (written === 0) this.metrics.refused.inc({ cache: this.name });
    } catch (error) {
      this.redisFailed(error);
    }
    return loaded && { value: loaded.value, version: loaded.version, stale: false };
  }

  /** Redis is out of reach: the source answers, nothing is written. */
  private async loadDirect(key: string, loader: CacheLoader<unknown>): Promise<CachedValue<unknown> | null> {
    const loaded = await this.load(key, loader, 'redis-down');
    return loaded && { value: loaded.value, version: loaded.version, stale: false };
  }

  /** One loader call, bounded by the load timeout, counted and timed; failures become {@link CacheUnavailableError}. */
  private async load(
    key: string,
    loader: CacheLoader<unknown>,
    reason: LoadReason,
  ): Promise<Versioned<unknown> | null> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof LOAD_TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(LOAD_TIMEOUT), this.loadTimeoutMs);
    });
    const endTimer = this.metrics.loadDuration.startTimer({ cache: this.name });
    try {
      const loaded = await Promise.race([loader(key, { signal: controller.signal }), timeout]);
      if (loaded === LOAD_TIMEOUT) {
        controller.abort(new CacheUnavailableError(this.name, key, 'timeout'));
        throw new CacheUnavailableError(this.name, key, 'timeout');
      }
      if (loaded !== null) checkVersion(this.name, key, loaded.version);
      this.metrics.loads.inc({ cache: this.name, reason, outcome: 'ok' });
      return loaded;
    } catch (error) {
      this.metrics.loads.inc({ cache: this.name, reason, outcome: 'error' });
      if (error instanceof CacheUnavailableError || error instanceof TypeError) throw error;
      throw new CacheUnavailableError(this.name, key, 'error', { cause: error });
    } finally {
      clearTimeout(timer);
      endTimer();
    }
  }

  /** The entry (taking the lease when it is missing or expired), or undefined when Redis is out of reach. */
  private async read(entryKey: string, token: string): Promise<EntryRead | undefined> {
    let raw: (string | null | number)[];
    try {
      raw = await this.guard.run(() =>
        readScript.run<(string | null | number)[]>(
          this.redis,
          [entryKey, this.keys.lease(entryKey)],
          [token, this.leaseMs, Date.now()],
        ),
      );
    } catch (error) {
      this.redisFailed(error);
      return undefined;
    }
    const [ver, val, neg, exp, delta, gen, leased] = raw;
    const found = val !== null || neg !== null;
    return {
      found,
      result:
        val === null || val === undefined
          ? null
          : { value: JSON.parse(String(val)) as unknown, version: Number(ver), stale: false },
      expiresAt: Number(exp ?? 0),
      deltaMs: Number(delta ?? 0),
      gen: gen === null || gen === undefined ? '0' : String(gen),
      leased: leased === 1,
    };
  }

  private redisFailed(error: unknown): void {
    this.metrics.errors.inc({ cache: this.name, kind: 'redis' });
    this.logger?.warn({ err: error, cache: this.name }, 'redis call failed; reading from the source');
  }
}

function asStale(result: CachedValue<unknown> | null): CachedValue<unknown> | null {
  return result && { ...result, stale: true };
}

function checkVersion(cache: string, key: string, version: unknown): void {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new TypeError(
      `cache ${cache}: version of ${key} must be a non-negative integer, got ${JSON.stringify(version)}`,
    );
  }
}

function positive(props: CacheAsideProps, field: keyof CacheAsideProps, fallback: number): number {
  const value = (props[field] as number | undefined) ?? fallback;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new Error(`cache ${props.name}: ${field} must be a positive number of ms, got ${String(value)}`);
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
