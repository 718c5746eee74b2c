import { RedisTimeoutError } from './cache-errors.js';

/** Options for {@link RedisGuard}. */
export interface RedisGuardProps {
  /** A Redis call that takes longer fails. @default 50 */
  readonly timeoutMs?: number;
  /** After a failure, calls fail at once for this long, then one is let through again. @default 1000 */
  readonly openMs?: number;
}

/**
 * Bounds what a Redis outage costs a read: each call gets `timeoutMs`, and after one fails every call
 * fails at once for `openMs` (a small circuit breaker), so that while Redis is down or blackholed
 * (SIGSTOPped: connections accepted, nothing answered) a read pays at most one timeout per `openMs`
 * and otherwise goes straight to the source.
 *
 * The timeout is the guard's own, not ioredis's `commandTimeout`, so it holds for a client shared
 * with other code whatever its options (offline queue, retries per request). It measures Redis, not
 * this process's event-loop lag: a timer that fires late, with the reply already in the socket,
 * lets the reply be read first (see `run`).
 *
 * @see https://github.com/redis/ioredis#auto-reconnect
 * @see https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick#phases-overview
 */
export class RedisGuard {
  /** The per-call timeout, ms. */
  public readonly timeoutMs: number;
  private readonly openMs: number;
  private openUntil = 0;

  constructor(props: RedisGuardProps = {}) {
    this.timeoutMs = props.timeoutMs ?? 50;
    this.openMs = props.openMs ?? 1000;
  }

  /** True while calls are refused without trying Redis. */
  get open(): boolean {
    return Date.now() < this.openUntil;
  }

  /** Runs `call`, failing after the timeout or at once while the breaker is open. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.open) throw new RedisTimeoutError(0);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // The rejection waits for the check phase (setImmediate): when the process itself was starved
      // past the timeout, timers run before the poll phase reads sockets, so a reply that has
      // already arrived is read first and wins; only a reply that truly is not there times out.
      timer = setTimeout(
        () => setImmediate(() => reject(new RedisTimeoutError(this.timeoutMs))),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([call(), timeout]);
    } catch (error) {
      this.openUntil = Date.now() + this.openMs;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
