/**
 * At most one call per key at a time in this process: concurrent callers of `run(key, fn)` share the
 * first one's promise until it settles.
 *
 * This is the in-process half of stampede protection; the load lease in Redis is the cross-process
 * half.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** Runs `fn` for `key`, or joins the run already in flight. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const current = this.flights.get(key);
    if (current) return current;
    const flight = fn().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }

  /** True while a run for `key` is in flight. */
  has(key: string): boolean {
    return this.flights.has(key);
  }
}
