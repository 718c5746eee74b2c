import { serviceConfigSchema, z } from '@aio/kit';

const positiveInt = z.coerce.number().int().positive();

/** Catalog's env: the kit's variables, the change feed's long-poll bound, and review for the product page. */
export const catalogConfigSchema = serviceConfigSchema.extend({
  /** How often a long-polling `GET /events?waitMs=` looks for new changes. @default 100 */
  FEED_POLL_MS: positiveInt.default(100),
  /** Review's base URL (the platform passes `<NAME>_URL` for each entry of `calls`): the rating summary. */
  REVIEW_URL: z.url(),
  /**
   * Time the product page waits for review's rating summary before it answers with
   * `reviews: { status: "unavailable" }`; the page's budget is this plus its own database read.
   * @default 300
   */
  REVIEW_TIMEOUT_MS: positiveInt.default(300),
  /** Consecutive review failures (5xx, no connection, timeouts) that open the circuit. @default 5 */
  REVIEW_FAILURE_THRESHOLD: positiveInt.default(5),
  /** Time the open circuit waits before one trial read of review (half-open). @default 2000 */
  REVIEW_HALF_OPEN_MS: positiveInt.default(2000),
  /** Bulkhead: review reads in flight at once; one more answers the fallback at once. @default 32 */
  REVIEW_MAX_CONCURRENT: positiveInt.default(32),
});

/** Catalog config. */
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
