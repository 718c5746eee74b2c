/**
 * A problem the user fixes, not a bug: a dependency that is down, a port in use, a service not built,
 * a process that died before it was ready. The message names it and says what to do; `aio dev` prints
 * it without a stack trace and exits 1.
 */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}
