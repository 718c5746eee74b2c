/**
 * Per-step retry policy for transient failures.
 */
export interface RetryPolicy {
  /**
   * Attempts in all (the first call included). Required: each step says how long it is worth
   * trying, and the engine honours it for every step kind and for compensations.
   */
  readonly maxAttempts: number;
  /**
   * Delay before the first retry, in milliseconds.
   *
   * @default 50
   */
  readonly initialDelayMs?: number;
  /**
   * Upper bound of one delay, in milliseconds.
   *
   * @default 2000
   */
  readonly maxDelayMs?: number;
  /**
   * Growth factor between consecutive delays.
   *
   * @default 2
   */
  readonly multiplier?: number;
}

/** A {@link RetryPolicy} with every default applied. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** Applies the defaults of {@link RetryPolicy}. */
export function resolveRetryPolicy(policy: RetryPolicy): ResolvedRetryPolicy {
  return {
    maxAttempts: policy.maxAttempts,
    initialDelayMs: policy.initialDelayMs ?? 50,
    maxDelayMs: policy.maxDelayMs ?? 2000,
    multiplier: policy.multiplier ?? 2,
  };
}

/**
 * The delay before retry number `attempt` (1 = the first retry): exponential growth capped at
 * `maxDelayMs`, with "equal jitter" (half fixed, half random) so that replicas retrying after the
 * same outage do not stampede the participant together.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelayMs(policy: ResolvedRetryPolicy, attempt: number, random = Math.random): number {
  const exp = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1),
  );
  return Math.round(exp / 2 + random() * (exp / 2));
}
