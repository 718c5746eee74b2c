import { dependency, operationUrl, participantCall, serviceOperation, StepFailure } from '@aio/kit';
import type { Dependency, Logger, ServiceOperation } from '@aio/kit';

/** The review operations catalog calls (its contract's `x-aio-calls`, so the mesh allows exactly these). */
export const REVIEW_CALLS = {
  ratings: serviceOperation('review', 'GET', '/ratings/{sku}'),
} as const satisfies Record<string, ServiceOperation>;

/**
 * The product page's `reviews`: review's rating summary when it answered in time, else the typed
 * fallback `{ status: "unavailable" }` (review slow, failing, down, or its circuit open). A client
 * tells the two apart by `status` alone; an unavailable summary is never shown as "no reviews".
 */
export type ReviewSummary =
  | {
      readonly status: 'ok';
      /** Reviews of the SKU. */
      readonly count: number;
      /** Mean rating (1–5) with 2 decimals; `null` when nobody reviewed the SKU. */
      readonly average: number | null;
    }
  | { readonly status: 'unavailable' };

/** The fallback: one frozen value, so every unavailable page says exactly the same. */
export const REVIEWS_UNAVAILABLE: ReviewSummary = Object.freeze({ status: 'unavailable' });

/** Reads the summary of a SKU; never throws (an unusable answer is {@link REVIEWS_UNAVAILABLE}). */
export type ReviewSummaryReader = (sku: string) => Promise<ReviewSummary>;

/** Props of {@link reviewSummaryReader}. */
export interface ReviewSummaryReaderProps {
  /** Review's base URL, e.g. `http://review:8080`. */
  readonly reviewUrl: string;
  /** Deadline of one read, in milliseconds. */
  readonly timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** Time the circuit stays open before one trial read. */
  readonly halfOpenAfterMs: number;
  /** Reads in flight at once (the bulkhead). */
  readonly maxConcurrent: number;
  readonly logger?: Logger;
}

/** Only transient failures count against review: a 4xx is review working (and still the fallback here). */
function transient(err: unknown): boolean {
  return err instanceof StepFailure && err.kind !== 'REJECTED';
}

/**
 * Review's rating summary through the kit's dependency wrapper (`dependency('review')`: deadline,
 * bulkhead, circuit breaker; exported as `aio_dependency_*{dependency="review"}` on `GET /metrics`),
 * with the fallback {@link REVIEWS_UNAVAILABLE} for any failure. The page therefore answers within
 * `timeoutMs` plus its own work whatever review does, and within its own work alone while the circuit
 * is open (no socket is opened). No retry: a product page is not worth a second wait.
 */
export function reviewSummaryReader(props: ReviewSummaryReaderProps): {
  readonly read: ReviewSummaryReader;
  readonly dependency: Dependency;
} {
  const dep = dependency({
    name: 'review',
    origin: new URL(props.reviewUrl).origin,
    timeoutMs: props.timeoutMs,
    failureThreshold: props.failureThreshold,
    halfOpenAfterMs: props.halfOpenAfterMs,
    maxConcurrent: props.maxConcurrent,
    countsAsFailure: transient,
  });
  const op = REVIEW_CALLS.ratings;
  const read: ReviewSummaryReader = async (sku) => {
    try {
      const { body } = await participantCall({
        url: operationUrl(props.reviewUrl, op, { sku }),
        method: op.method,
        participant: 'review',
        timeoutMs: props.timeoutMs,
        dependency: dep,
      });
      const summary = toSummary(body);
      if (summary) return summary;
      props.logger?.warn({ sku }, 'review answered a rating summary without count or average');
    } catch (err) {
      props.logger?.debug({ sku, err: (err as Error).message }, 'review rating summary unavailable');
    }
    // the same counter Dependency.callOr keeps: aio_dependency_calls{outcome="fallback"}
    dep.counters.fallbacks++;
    return REVIEWS_UNAVAILABLE;
  };
  return { read, dependency: dep };
}

/** Review's `{ count, average }` as a summary, or undefined when the answer does not have them. */
function toSummary(body: Record<string, unknown>): ReviewSummary | undefined {
  const { count, average } = body;
  if (!Number.isSafeInteger(count) || (count as number) < 0) return undefined;
  if (average !== null && (typeof average !== 'number' || !(average >= 1 && average <= 5))) return undefined;
  if ((count === 0) !== (average === null)) return undefined;
  return { status: 'ok', count: count as number, average };
}
