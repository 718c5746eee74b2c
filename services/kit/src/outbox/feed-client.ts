import { participantCall } from '../saga/participant-call.js';
import { operationUrl, serviceOperation, type ServiceOperation } from '../service-calls.js';
import { FEED_START, type FeedPage } from './event-feed.js';
import { EVENTS_PATH } from './feed-routes.js';

/**
 * The feed operation of `source` (`GET /events`), for a reader's `declareCalls`: the platform then
 * lets the reader, and only it, call the producer's feed through the mesh.
 */
export function feedOperation(source: string): ServiceOperation {
  return serviceOperation(source, 'GET', EVENTS_PATH);
}

/** Options of {@link fetchFeedPage}. */
export interface FetchFeedOptions {
  /** @default '0' (the start) */
  readonly after?: string;
  /** @default 100 */
  readonly limit?: number;
  /** Long-poll this long on the producer. @default 0 */
  readonly waitMs?: number;
  /** The producer's name in errors. @default - the URL's host */
  readonly source?: string;
  /** Budget of the call on top of `waitMs`. @default 5000 */
  readonly marginMs?: number;
}

/**
 * Reads one page of a producer's feed (`GET <baseUrl>/events`) with the kit's HTTP client, so the
 * call carries the trace context and fails as a `StepFailure` (retryable on 5xx and network errors).
 *
 * @throws StepFailure when the producer does not answer 2xx, or Error when the answer is not a feed page
 */
export async function fetchFeedPage(baseUrl: string, options: FetchFeedOptions = {}): Promise<FeedPage> {
  const waitMs = options.waitMs ?? 0;
  const query = new URLSearchParams({
    after: options.after ?? FEED_START,
    limit: String(options.limit ?? 100),
    waitMs: String(waitMs),
  });
  const reply = await participantCall({
    url: `${operationUrl(baseUrl, feedOperation(options.source ?? 'producer'))}?${query}`,
    method: 'GET',
    ...(options.source ? { participant: options.source } : {}),
    timeoutMs: waitMs + (options.marginMs ?? 5000),
  });
  const { events, next, remaining } = reply.body as Partial<FeedPage>;
  if (!Array.isArray(events) || typeof next !== 'string')
    throw new Error(`feed ${options.source ?? baseUrl}: the answer is not a feed page (events and next)`);
  return { events, next, remaining: typeof remaining === 'number' ? remaining : 0 };
}
