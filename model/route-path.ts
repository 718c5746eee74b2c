/**
 * Route paths: the one place that says what a valid path prefix is, how two spellings of one
 * path compare, and what the messages about them say. The schema, the cross-checks, the
 * platform.yaml editor, `aio route` and the scaffolder all use it.
 */

/** A route path prefix: starts with `/`, URL path characters only. */
export const ROUTE_PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/** Why a path is not a route path, in the field's terms (the caller prefixes the field). */
export const ROUTE_PATH_MESSAGE = "must start with '/' and use only URL path characters";

/** Why `/` cannot be routed to a service. */
export const CATCH_ALL_MESSAGE =
  "'/' is the catch-all to the legacy monolith; route a narrower prefix such as '/api/orders'";

/**
 * The canonical spelling of a path prefix: trailing slashes removed (`/api/orders/` is
 * `/api/orders`), `/` kept. Two routes are the same route when their normalized paths are equal.
 */
export function normalizeRoutePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/**
 * What is wrong with `path` as a route of a service, or `undefined` when it is fine: not a URL
 * path ({@link ROUTE_PATH_MESSAGE}), or the catch-all `/` ({@link CATCH_ALL_MESSAGE}).
 */
export function routePathProblem(path: string): string | undefined {
  if (!ROUTE_PATH.test(path)) return ROUTE_PATH_MESSAGE;
  if (normalizeRoutePath(path) === '/') return CATCH_ALL_MESSAGE;
  return undefined;
}
