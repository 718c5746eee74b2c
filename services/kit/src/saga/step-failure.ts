/**
 * How a failed saga step is treated.
 *
 * - `RETRYABLE`: transient (network error, 5xx, 429, 408). Retried under the step's policy before
 *   anything is compensated; the action may have taken effect.
 * - `TIMEOUT`: no reply in time. Retried like `RETRYABLE`, and always treated as "maybe done", so
 *   the step's compensation runs if the saga compensates.
 * - `REJECTED`: a business answer (409, 402, other 4xx). Never retried; the saga compensates the
 *   steps before it at once.
 */
export type StepFailureKind = 'RETRYABLE' | 'TIMEOUT' | 'REJECTED';

/**
 * A classified step failure. Actions throw it (or let {@link participantCall} throw it).
 *
 * Any other error thrown by an action counts as `RETRYABLE`.
 */
export class StepFailure extends Error {
  /** Creates a failure of `kind`, with the participant's `reason` when it gave one. */
  public constructor(
    public readonly kind: StepFailureKind,
    message: string,
    /** The participant's reason code, e.g. `INSUFFICIENT_STOCK` or `card_declined`. */
    public readonly reason?: string,
    /** The HTTP status that caused the failure, when there was one. */
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'StepFailure';
  }

  /** A business rejection: compensate at once, never retry. */
  public static rejected(reason: string, status?: number): StepFailure {
    return new StepFailure('REJECTED', `rejected: ${reason}`, reason, status);
  }

  /** A transient failure: retry under the step's policy. */
  public static retryable(message: string, status?: number): StepFailure {
    return new StepFailure('RETRYABLE', message, undefined, status);
  }

  /** No reply in time: retry, and treat the action as maybe done. */
  public static timeout(message: string): StepFailure {
    return new StepFailure('TIMEOUT', message);
  }
}

/**
 * Classifies an HTTP status code of a participant reply.
 *
 * 408, 429 and 5xx are transient; every other 4xx is a business rejection.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-status-codes
 */
export function classifyStatus(status: number): StepFailureKind | 'OK' {
  if (status >= 200 && status < 300) return 'OK';
  if (status === 408 || status === 429 || status >= 500) return 'RETRYABLE';
  return 'REJECTED';
}

/** The failure kind of anything an action threw. */
export function failureKindOf(err: unknown): StepFailureKind {
  return err instanceof StepFailure ? err.kind : 'RETRYABLE';
}

/**
 * Thrown by a fault-injection hook to simulate a crash of the orchestrator in-process: the engine
 * abandons the saga without recording anything, exactly as if the process had died, and the lease
 * expires so that another worker resumes it.
 */
export class SimulatedCrash extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'SimulatedCrash';
  }
}
