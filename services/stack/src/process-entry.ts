/**
 * What a process is to the platform. `aio dev --json` reports the gateway, the monolith and the
 * services by role; `support` processes (a token issuer, a benchmark's stand-in) are started but not
 * reported as entry points.
 */
export type ProcessRole = 'service' | 'monolith' | 'gateway' | 'support';

/** What an entry sees of the stack when its environment and command are derived. */
export interface ProcessContext {
  /** The repository root (entry points and generated files are relative to it). */
  readonly root: string;
  /** `test` (random databases and Redis prefix, dropped at stop) or `dev` (stable, kept). */
  readonly scope: 'test' | 'dev';
  /**
   * A directory for state that must outlive a restart of the process (the token issuer's keys):
   * the stack's `stateDir` (`aio dev`: its state directory, kept across runs), else a temporary
   * directory removed when the stack stops. Never under a build output (`dist/`).
   */
  readonly stateDir: string;
  /** The port this process listens on (also passed as `PORT`). */
  readonly port: number;
  /** Base URL of another process of this stack (its first replica), e.g. `http://127.0.0.1:8081`. */
  url(name: string): string;
  /** The final environment of a process started before this one (one it calls or starts after). */
  envOf(name: string): Readonly<Record<string, string>>;
}

/**
 * One process of the local stack: everything the launcher needs to start it, derived from the stack.
 *
 * Adding a process to the local stack is one entry in {@link PLATFORM_PROCESSES}.
 */
export interface ProcessEntry {
  /** Name in logs, URLs (`<NAME>_URL` for its callers), databases (`<prefix>_<name>`) and key prefixes. */
  readonly name: string;
  /** What it is to the platform. */
  readonly role: ProcessRole;
  /**
   * Script run with the current `node`, relative to the repository root.
   *
   * @default - required unless `command` is given
   */
  readonly main?: string;
  /**
   * The argv of a process that is not a node script (e.g. nginx), file first.
   *
   * @default - `node <main>`
   */
  command?(ctx: ProcessContext): readonly string[];
  /**
   * Gets `DATABASE_URL`: a database of its own in the stack's scope.
   *
   * @default false
   */
  readonly database?: boolean;
  /**
   * Gets `REDIS_URL` and `REDIS_KEY_PREFIX` (`<stack prefix><name>:`).
   *
   * @default false
   */
  readonly redis?: boolean;
  /**
   * Processes this one calls: started (and ready) first, each passed as `<NAME>_URL`
   * (`order-history` → `ORDER_HISTORY_URL`).
   *
   * @default []
   */
  readonly calls?: readonly string[];
  /**
   * Processes that must be ready first without being called (e.g. a gateway's upstreams it reads from a
   * generated file).
   *
   * @default []
   */
  readonly after?: readonly string[];
  /**
   * More environment, derived from the stack. Explicit overrides of the caller win over it.
   *
   * @default - none
   */
  env?(ctx: ProcessContext): Record<string, string>;
  /**
   * Path answering 2xx when the process is ready.
   *
   * @default /healthz
   */
  readonly readyPath?: string;
}

/** `order-history` → `ORDER_HISTORY_URL`: how a caller receives a dependency's base URL. */
export function urlVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}
