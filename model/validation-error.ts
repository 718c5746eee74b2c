/**
 * Where a problem sits in the user's input: a file position, a construct path, or both.
 */
export interface ProblemLocation {
  /** The file the problem is in, as the user named it. */
  readonly file?: string;
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column. */
  readonly col?: number;
  /** Dotted field path, e.g. `services.order.routes[0].weight`, or a construct path. */
  readonly path?: string;
}

/**
 * One problem with the user's input, carrying where it is.
 *
 * The message is in the user's terms: lowercase, no trailing period, and it names what to do.
 * `toString()` gives the house format `platform.yaml:12:9: services.order.routes[0].weight: must be
 * an integer from 0 to 100, got 150`.
 */
export class ValidationError extends Error {
  public readonly location: ProblemLocation;
  /** The offending value as the user wrote it, already rendered for display (`150`, `'abc'`). */
  public readonly got?: string;
  /** The message without location or value. */
  public readonly detail: string;

  constructor(detail: string, location: ProblemLocation = {}, got?: string) {
    super(formatProblem(detail, location, got));
    this.name = 'ValidationError';
    this.detail = detail;
    this.location = location;
    this.got = got;
  }
}

/**
 * Several problems found in one pass, so the user can fix them all at once.
 */
export class ValidationErrors extends Error {
  public readonly errors: readonly ValidationError[];

  constructor(errors: readonly ValidationError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ValidationErrors';
    this.errors = errors;
  }
}

/** True for errors that are the user's to fix (print without a stack trace). */
export function isUserError(err: unknown): err is ValidationError | ValidationErrors | UsageError {
  return err instanceof ValidationError || err instanceof ValidationErrors || err instanceof UsageError;
}

/**
 * A command-line usage problem (unknown flag value, missing argument). The CLI exits 2 for these.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Renders a value the way error messages quote it: numbers bare, strings in single quotes. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function formatProblem(detail: string, loc: ProblemLocation, got?: string): string {
  const where = [loc.file, loc.line, loc.col].filter((p) => p !== undefined).join(':');
  const parts = [where, loc.path].filter((p) => p !== undefined && p !== '');
  const head = parts.length ? parts.join(': ') + ': ' : '';
  return `${head}${detail}${got !== undefined ? `, got ${got}` : ''}`;
}
