import { fetchFeedPage } from '../outbox/feed-client.js';
import type { FeedEvent } from '../outbox/event-feed.js';

/**
 * Every event a producer's feed serves from `after` on (page after page), waiting up to `timeoutMs`
 * until `until` holds for what was read, for tests that check what a service recorded.
 */
export async function readFeedUntil(
  baseUrl: string,
  until: (events: readonly FeedEvent[]) => boolean = () => true,
  { after = '0', timeoutMs = 15_000 }: { after?: string; timeoutMs?: number } = {},
): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  let cursor = after;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await fetchFeedPage(baseUrl, { after: cursor, limit: 1000, waitMs: 200 });
    events.push(...page.events);
    cursor = page.next;
    if (page.events.length === 0 && (until(events) || Date.now() > deadline)) return events;
  }
}
