import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../metrics/index.js';
import { FEED_CURSOR_PATTERN, FEED_START, waitForFeed } from './event-feed.js';
import { readFeedHoldback } from './feed-holdback.js';
import { compactOutbox, OUTBOX_RETAIN_MS_DEFAULT } from './outbox-retention.js';

/** The feed's path on every producer. Internal: never routed at the edge (no `public`). */
export const EVENTS_PATH = '/events';

/** Options of {@link serveEventFeed}. */
export interface EventFeedOptions {
  /** Each event is kept at least this long (see `compactOutbox`). @default 604800000 (7 days) */
  readonly retainMs?: number;
  /** How often the outbox is compacted. @default 600000 (10 minutes) */
  readonly compactEveryMs?: number;
  /** How often a long-poll looks again. @default 100 */
  readonly pollMs?: number;
}

/** What {@link serveEventFeed} needs of the service (a `ServiceContext` fits). */
export interface EventFeedHost {
  readonly app: FastifyInstance;
  readonly pool: Pool;
  readonly logger: Logger;
  /** The service's registry: the feed's stall gauges go on it. @default - none */
  readonly metrics?: ServiceMetrics;
  onClose(hook: () => Promise<void> | void): void;
}

interface EventsQuery {
  after?: string;
  limit?: number;
  waitMs?: number;
}

/**
 * Serves the producer's outbox as `GET /events?after=<cursor>&limit=&waitMs=`: up to `limit`
 * (1-1000, default 100) events after `after` (default `0`, the start), gap-safe (see `readFeed`),
 * long-polling up to `waitMs` (0-30000) when there is none yet. The answer is `{ events, next }`.
 * An operator/internal operation like `/sagas` (no `config.public`): only services that the
 * platform lets call this one reach it, through the mesh.
 *
 * It also compacts the outbox every `compactEveryMs`, and ends long-polls when the service shuts
 * down (they answer with no events at once, so draining does not wait for them).
 */
export function serveEventFeed(host: EventFeedHost, options: EventFeedOptions = {}): void {
  const { app, pool, logger } = host;
  const shutdown = new AbortController();
  app.addHook('preClose', async () => shutdown.abort());
  app.get<{ Querystring: EventsQuery }>(
    EVENTS_PATH,
    {
      logLevel: 'warn',
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', pattern: FEED_CURSOR_PATTERN },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
            waitMs: { type: 'integer', minimum: 0, maximum: 30000 },
          },
        },
      },
    },
    async (req) =>
      waitForFeed(pool, {
        after: req.query.after ?? FEED_START,
        limit: req.query.limit ?? 100,
        waitMs: req.query.waitMs ?? 0,
        pollMs: options.pollMs ?? 100,
        signal: shutdown.signal,
      }),
  );
  if (host.metrics) registerFeedMetrics(host.metrics, pool);
  const retainMs = options.retainMs ?? OUTBOX_RETAIN_MS_DEFAULT;
  const timer = setInterval(() => {
    compactOutbox(pool, { retainMs }).then(
      (deleted) => deleted && logger.info({ deleted }, 'outbox compacted'),
      (err: unknown) => logger.warn({ err }, 'outbox compaction failed; trying again later'),
    );
  }, options.compactEveryMs ?? 600_000);
  timer.unref();
  host.onClose(() => clearInterval(timer));
}

/**
 * The stall gauges, read from `readFeedHoldback` at each scrape: `aio_outbox_feed_held_seconds`
 * (age of the oldest committed event the feed holds back: what consumers wait),
 * `aio_outbox_feed_held_events` and `aio_outbox_oldest_transaction_seconds` (the cause).
 */
function registerFeedMetrics(metrics: ServiceMetrics, pool: Pool): void {
  let last: Promise<Awaited<ReturnType<typeof readFeedHoldback>>> | undefined;
  // one query per scrape for the three gauges
  const read = () =>
    (last ??= readFeedHoldback(pool).finally(() => setTimeout(() => (last = undefined), 100)));
  const gauge = (
    name: string,
    help: string,
    pick: (h: Awaited<ReturnType<typeof readFeedHoldback>>) => number,
  ) =>
    metrics.gauge({
      name,
      help,
      async collect() {
        this.set(pick(await read()));
      },
    });
  gauge(
    'aio_outbox_feed_held_seconds',
    'Age of the oldest committed event the feed holds back behind an open transaction.',
    (h) => h.heldSeconds,
  );
  gauge(
    'aio_outbox_feed_held_events',
    'Committed events the feed holds back behind an open transaction.',
    (h) => h.heldEvents,
  );
  gauge(
    'aio_outbox_oldest_transaction_seconds',
    'Age of the oldest open transaction holding an xid on the server.',
    (h) => h.oldestTransactionSeconds,
  );
}
