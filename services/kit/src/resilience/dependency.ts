import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  timeout,
} from 'cockatiel';
import type { BulkheadPolicy, CircuitBreakerPolicy, TimeoutPolicy } from 'cockatiel';

/** Props of {@link Dependency}. */
export interface DependencyProps {
  /** The callee's name, e.g. `review`: the metric label and the prefix of every message. */
  readonly name: string;
  /**
   * The callee's origin (`http://review:8080`): with the name, the identity {@link dependency} keeps
   * wrappers by, so a process that calls two instances of one service (a test) has two breakers.
   *
   * @default - the name alone
   */
  readonly origin?: string;
  /**
   * Deadline of one call, in milliseconds (a call may pass its own): the call's signal is aborted and
   * the caller gets a `timeout` {@link DependencyUnavailable} at once (the callee may still act on it:
   * "maybe done").
   *
   * @default 2000
   */
  readonly timeoutMs?: number;
  /**
   * Bulkhead: calls in flight at once; one more is refused at once (`bulkhead-full`) instead of
   * queueing, so a slow callee ties up at most this many of the caller's sockets and handlers.
   *
   * @default 64
   */
  readonly maxConcurrent?: number;
  /**
   * Consecutive failures (errors `countsAsFailure` accepts, and timeouts) that open the circuit.
   *
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * Time the circuit stays open before one trial call is let through (half-open); the trial's
   * outcome closes it or opens it again.
   *
   * @default 5000
   */
  readonly halfOpenAfterMs?: number;
  /**
   * Which errors of the call count against the callee. A business answer (a 404, a 409) is the callee
   * working: it must not open the circuit.
   *
   * @default - every error
   */
  countsAsFailure?(err: unknown): boolean;
}

/** Why a call did not reach, or did not hear back from, its dependency. */
export type UnavailableReason = 'circuit-open' | 'bulkhead-full' | 'timeout';

/** The circuit's state as exported by the metric: `closed` 0, `open` 1, `half-open` 2. */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/**
 * A call that the wrapper stopped: the circuit is open, the bulkhead is full, or the deadline passed.
 * Errors of the call itself are rethrown as they are.
 */
export class DependencyUnavailable extends Error {
  public constructor(
    /** The dependency's name. */
    public readonly dependency: string,
    /** What stopped the call. */
    public readonly reason: UnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'DependencyUnavailable';
  }
}

/** Counters of one dependency since the process started (what the metrics export). */
export interface DependencyCounters {
  /** Calls that returned. */
  succeeded: number;
  /** Calls whose own error was rethrown (counted against the callee or not). */
  failed: number;
  /** Calls stopped by the wrapper, by reason. */
  unavailable: Record<UnavailableReason, number>;
  /** Answers given by a fallback instead of the dependency. */
  fallbacks: number;
  /** Times the circuit opened. */
  opened: number;
}

/**
 * The one wrapper for calls from a service to another: a deadline, a bulkhead (a cap on concurrent
 * calls), a circuit breaker and an optional fallback, on cockatiel's policies
 * (`bulkhead(breaker(timeout(call)))`: a refused call never reaches the breaker, a timed-out one counts
 * against it). It never retries: where a call must be retried (a saga step), the caller's one retry
 * layer does it (docs/decisions.md, "One resilience wrapper per dependency").
 *
 * Use one instance per callee and process ({@link dependency} keeps them), so that every call to
 * `review` shares one breaker and one bulkhead.
 *
 * @see https://github.com/connor4312/cockatiel#readme
 * @see https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker
 */
export class Dependency {
  /** The callee's name. */
  public readonly name: string;
  /** The callee's origin, when given. */
  public readonly origin: string | undefined;
  /** The resolved deadline of one call, in milliseconds. */
  public readonly timeoutMs: number;
  /** The resolved bulkhead size. */
  public readonly maxConcurrent: number;
  /** Counters since the process started. */
  public readonly counters: DependencyCounters = {
    succeeded: 0,
    failed: 0,
    unavailable: { 'circuit-open': 0, 'bulkhead-full': 0, timeout: 0 },
    fallbacks: 0,
    opened: 0,
  };

  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  /** Timeout policies by duration, for calls that pass their own. */
  private readonly timeouts = new Map<number, TimeoutPolicy>();
  private readonly listeners = new Set<(state: CircuitStateName) => void>();

  public constructor(props: DependencyProps) {
    this.name = props.name;
    this.origin = props.origin;
    this.timeoutMs = props.timeoutMs ?? 2000;
    this.maxConcurrent = props.maxConcurrent ?? 64;
    const failureThreshold = props.failureThreshold ?? 5;
    const halfOpenAfter = props.halfOpenAfterMs ?? 5000;
    for (const [field, value] of [
      ['timeoutMs', this.timeoutMs],
      ['maxConcurrent', this.maxConcurrent],
      ['failureThreshold', failureThreshold],
      ['halfOpenAfterMs', halfOpenAfter],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`dependency ${this.name}: '${field}' must be a positive integer, got ${value}`);
    }
    const countsAsFailure = props.countsAsFailure ?? (() => true);
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof TaskCancelledError || countsAsFailure(err)),
      { halfOpenAfter, breaker: new ConsecutiveBreaker(failureThreshold) },
    );
    this.bulkhead = bulkhead(this.maxConcurrent, 0);
    this.breaker.onBreak(() => this.counters.opened++);
    this.breaker.onStateChange((s) => {
      const state = stateName(s);
      for (const listener of this.listeners) listener(state);
    });
  }

  /**
   * The circuit's state. An open circuit turns half-open on the first call after `halfOpenAfterMs`
   * (cockatiel decides at call time), so with no traffic it stays `open`.
   */
  public get state(): CircuitStateName {
    return stateName(this.breaker.state);
  }

  /** Calls in flight now (at most `maxConcurrent`). */
  public get inFlight(): number {
    return this.maxConcurrent - this.bulkhead.executionSlots;
  }

  /** Calls `listener` on every state change; returns the function that removes it. */
  public onStateChange(listener: (state: CircuitStateName) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `call` under the deadline, the bulkhead and the breaker. `call` receives a signal aborted at
   * the deadline: pass it to the request so that the socket is released.
   *
   * @param timeoutMs - @default - the dependency's `timeoutMs`
   * @throws {@link DependencyUnavailable} when the wrapper stopped the call; else the call's own error
   */
  public async call<T>(call: (signal: AbortSignal) => Promise<T>, timeoutMs?: number): Promise<T> {
    const ms = timeoutMs ?? this.timeoutMs;
    try {
      const value = await this.bulkhead.execute(({ signal }) =>
        this.breaker.execute(
          () => this.timeoutOf(ms).execute(({ signal: inner }) => deadlined(call, inner, ms), signal),
          signal,
        ),
      );
      this.counters.succeeded++;
      return value;
    } catch (err) {
      const reason = unavailableReason(err);
      if (!reason) {
        this.counters.failed++;
        throw err;
      }
      this.counters.unavailable[reason]++;
      throw new DependencyUnavailable(this.name, reason, `${this.name}: ${describe(reason, this, ms)}`);
    }
  }

  private timeoutOf(ms: number): TimeoutPolicy {
    let policy = this.timeouts.get(ms);
    if (!policy) {
      if (!Number.isInteger(ms) || ms < 1)
        throw new RangeError(`dependency ${this.name}: 'timeoutMs' must be a positive integer, got ${ms}`);
      // abortOnReturn false: aborting after a reply would destroy a keep-alive socket that is being reused
      policy = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
      this.timeouts.set(ms, policy);
    }
    return policy;
  }

  /**
   * Like {@link call}, but any failure (stopped by the wrapper or the call's own error) answers
   * `fallback(err)` instead: for a dependency the caller can do without (a product page without its
   * rating summary). The breaker still sees the failure.
   */
  public async callOr<T, F>(
    call: (signal: AbortSignal) => Promise<T>,
    fallback: (err: unknown) => F,
  ): Promise<T | F> {
    try {
      return await this.call(call);
    } catch (err) {
      this.counters.fallbacks++;
      return fallback(err);
    }
  }
}

const dependencies = new Map<string, Dependency>();

/**
 * This process's wrapper for the callee `props.name`, created on first use with `props`; later calls
 * return the same instance (their props are ignored), so every call site shares one breaker.
 */
export function dependency(props: DependencyProps): Dependency {
  const key = props.origin ? `${props.name} ${props.origin}` : props.name;
  let existing = dependencies.get(key);
  if (!existing) {
    existing = new Dependency(props);
    dependencies.set(key, existing);
  }
  return existing;
}

/** Every wrapper {@link dependency} made in this process, for the metrics. */
export function knownDependencies(): readonly Dependency[] {
  return [...dependencies.values()];
}

/**
 * Runs the call; an error it throws because the deadline aborted its signal (a destroyed socket's
 * `AbortError`, which can settle before cockatiel's own race) is the deadline's `TaskCancelledError`.
 */
async function deadlined<T>(
  call: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal,
  ms: number,
): Promise<T> {
  try {
    return await call(signal);
  } catch (err) {
    if (signal.aborted) throw new TaskCancelledError(`Operation timed out after ${ms}ms`);
    throw err;
  }
}

function stateName(state: CircuitState): CircuitStateName {
  if (state === CircuitState.HalfOpen) return 'half-open';
  // Isolated is a manual open; the kit never isolates, but report it as open
  return state === CircuitState.Closed ? 'closed' : 'open';
}

function unavailableReason(err: unknown): UnavailableReason | undefined {
  if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) return 'circuit-open';
  if (err instanceof BulkheadRejectedError) return 'bulkhead-full';
  if (err instanceof TaskCancelledError) return 'timeout';
  return undefined;
}

function describe(reason: UnavailableReason, dep: Dependency, timeoutMs: number): string {
  if (reason === 'circuit-open') return 'circuit open, call not made';
  if (reason === 'bulkhead-full') return `${dep.maxConcurrent} calls already in flight, call not made`;
  return `no reply within ${timeoutMs} ms`;
}
