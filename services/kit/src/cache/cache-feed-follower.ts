import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LuaScript } from '../lua-script.js';
import type { ServiceMetrics } from '../metrics/index.js';
import { FEED_START, type FeedEvent } from '../outbox/event-feed.js';
import { fetchFeedPage } from '../outbox/feed-client.js';
import type { CacheAside } from './cache-aside.js';
import { RedisGuard } from './redis-guard.js';

/** The entry one feed event invalidates: its key and, when the event carries it, the new version. */
export interface CacheFeedTarget {
  readonly key: string;
  /** The version the change produced: entries already at it or newer are kept. @default - none (any load that began before is refused) */
  readonly version?: number;
}

/** Options of {@link CacheFeedFollower}. */
export interface CacheFeedFollowerProps {
  /** The cache whose entries the feed's events invalidate. */
  readonly cache: CacheAside<unknown>;
  /** The cache's Redis: the cursor is kept beside the entries. */
  readonly redis: Redis;
  /** The producer's name (`catalog`): in the cursor's key, the HTTP client's dependency name, metrics and logs. */
  readonly source: string;
  /** The producer's base URL; its feed is `GET <url>/events`. */
  readonly url: string;
  /** The entry an event invalidates, or `undefined` for an event that changes nothing cached. */
  readonly target: (event: FeedEvent) => CacheFeedTarget | undefined;
  /** Long-poll of one feed read, ms. @default 5000 */
  readonly waitMs?: number;
  /** Events per read. @default 500 */
  readonly limit?: number;
  /** First wait after a failed read or invalidation, doubled per failure up to 5 s. @default 200 */
  readonly retryMs?: number;
  /** A cursor read or write taking longer fails (and the page is read again), ms. @default 250 */
  readonly redisTimeoutMs?: number;
  /** The service's registry for the follower's metrics. @default - not measured */
  readonly metrics?: ServiceMetrics;
  /** Where failures are logged. @default - not logged */
  readonly logger?: Logger;
}

/**
 * Moves the cursor only from the position this follower read the page at: replicas following the
 * same feed never move it backwards, and a page read from a cursor that moved meanwhile is dropped
 * (its invalidations were harmless: they are idempotent by version).
 *
 * KEYS: cursor. ARGV: the cursor the page was read after, the page's `next`. Returns 1 when moved.
 */
const cursorScript = new LuaScript(
  'cache-feed-cursor',
  `if (redis.call('GET', KEYS[1]) or '${FEED_START}') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`,
);

/**
 * Invalidates a {@link CacheAside}'s entries from a producer's change feed (the kit outbox's
 * `GET /events`), the TTL staying the safety net: never pub/sub alone, since a missed message
 * would leave a stale value for a whole TTL, whereas a feed is read from a position.
 *
 * Each step reads the cursor, one page after it (long-polling), invalidates the entry of every
 * event with the event's version, and only then moves the cursor (a compare-and-set). A failure
 * anywhere (producer down, Redis down) leaves the cursor where it was and the page is read again,
 * with backoff: at least once, and a replayed event drops nothing newer.
 *
 * **The cursor lives in the cache's Redis** (`<cache prefix>feed:<source>`, no TTL), beside the
 * entries it protects: a Redis that comes back empty has lost entries and cursor together, and the
 * follower replays the feed from its start, which is harmless (invalidations by version); a cursor
 * kept elsewhere (the service's Postgres) could survive an empty Redis, but would then have to be
 * reset with it, and would survive a Redis restored from a snapshot older than itself, skipping
 * the changes between them. Replicas share the cursor, so a replica that starts does not replay.
 */
export class CacheFeedFollower {
  /** The cursor's Redis key. */
  public readonly cursorKey: string;
  private readonly guard: RedisGuard;
  private readonly events: { inc(labels: Record<string, string>, value: number): void } | undefined;
  private readonly behind: { set(labels: Record<string, string>, value: number): void } | undefined;
  private readonly failures: { inc(labels: Record<string, string>): void } | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly props: CacheFeedFollowerProps) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(props.source)) {
      throw new Error(
        `cache feed: source must be lowercase letters, digits and '-', got ${JSON.stringify(props.source)}`,
      );
    }
    this.cursorKey = `${props.cache.keys.prefix}feed:${props.source}`;
    this.guard = new RedisGuard({ timeoutMs: props.redisTimeoutMs ?? 250, openMs: 1 });
    const m = props.metrics;
    this.events = m?.counter({
      name: 'aio_cache_feed_events_total',
      help: 'Change-feed events applied to a cache (each invalidated its entry, or named none).',
      labelNames: ['cache', 'source'],
    });
    this.behind = m?.gauge({
      name: 'aio_cache_feed_behind_events',
      help: 'Events the producer had after the follower’s cursor at its last read (its lag).',
      labelNames: ['cache', 'source'],
    });
    this.failures = m?.counter({
      name: 'aio_cache_feed_failures_total',
      help: 'Feed reads or invalidations that failed; the page is read again.',
      labelNames: ['cache', 'source'],
    });
  }

  /** Follows the feed in the background until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops after the current step. A long-poll in flight is not waited for past `boundMs`: its
   * page is read again by the next start (at least once).
   */
  async stop(boundMs = 1000): Promise<void> {
    this.running = false;
    this.wake?.();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, boundMs)))]);
    clearTimeout(timer);
  }

  /**
   * One step: reads a page after the cursor (long-polling up to `waitMs`), invalidates its
   * entries, moves the cursor.
   *
   * @returns the number of events on the page (0 when caught up)
   * @throws when the producer or Redis failed: nothing moved, call again
   */
  async step(waitMs = this.props.waitMs ?? 5000): Promise<number> {
    const { cache, redis, source } = this.props;
    const after = (await this.guard.run(() => redis.get(this.cursorKey))) ?? FEED_START;
    const page = await fetchFeedPage(this.props.url, {
      after,
      limit: this.props.limit ?? 500,
      waitMs,
      source,
    });
    const labels = { cache: cache.name, source };
    this.behind?.set(labels, page.remaining);
    if (page.events.length === 0) return 0;
    for (const event of page.events) {
      const target = this.props.target(event);
      if (target) await cache.invalidate(target.key, target.version);
    }
    await this.guard.run(() => cursorScript.run(redis, [this.cursorKey], [after, page.next]));
    this.events?.inc(labels, page.events.length);
    return page.events.length;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.step();
        failures = 0;
      } catch (error) {
        if (!this.running) break;
        failures++;
        this.failures?.inc({ cache: this.props.cache.name, source: this.props.source });
        if (failures === 1 || failures % 20 === 0) {
          this.props.logger?.warn(
            { err: error, cache: this.props.cache.name, source: this.props.source, failures },
            'cache feed: read or invalidation failed; reading the page again',
          );
        }
        const backoff = Math.min(5000, (this.props.retryMs ?? 200) * 2 ** Math.min(failures - 1, 10));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }
}

/**
 * The target of a kit outbox event whose payload carries the aggregate's `version` (the catalog's
 * `product.*` events): the aggregate id is the key. A payload without a usable version invalidates
 * without one (any load that began before is refused), never not at all.
 */
export function aggregateVersionTarget(aggregateType: string) {
  return (event: FeedEvent): CacheFeedTarget | undefined => {
    if (event.aggregateType !== aggregateType) return undefined;
    const version = (event.payload as { version?: unknown } | null)?.version;
    return typeof version === 'number' && Number.isSafeInteger(version) && version >= 0
      ? { key: event.aggregateId, version }
      : { key: event.aggregateId };
  };
}
