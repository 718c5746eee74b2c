import type { FastifyInstance } from 'fastify';

/** The OpenAPI extension, at the document's top level, listing the operations of peers a service calls. */
export const CALLS_EXTENSION = 'x-aio-calls';

/**
 * One operation of another service that this service calls: the peer's name (as in platform.yaml),
 * the method, and the OpenAPI path template of the peer's route contract (`/reservations/{orderId}/commit`).
 */
export interface ServiceOperation {
  readonly service: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** OpenAPI path template, as the peer's contract names it. */
  readonly path: string;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Declares an operation of a peer. The calling code builds its URL with {@link operationUrl} from
 * this very value, and the service passes its operations to {@link declareCalls}, so the contract's
 * `x-aio-calls` (which the platform turns into the peer's mesh policy, `to.operation`) cannot drift
 * from the calls the code makes.
 *
 * @throws Error naming the bad method or path
 */
export function serviceOperation(service: string, method: string, path: string): ServiceOperation {
  if (!METHODS.has(method))
    throw new Error(`operation method must be one of ${[...METHODS].join(', ')}, got '${method}'`);
  if (!/^\/[A-Za-z0-9._~{}/-]*$/.test(path) || /\{[^}]*[^A-Za-z0-9_}][^}]*\}/.test(path)) {
    throw new Error(`operation path must be an OpenAPI template like /things/{id}, got '${path}'`);
  }
  return Object.freeze({ service, method, path });
}

/**
 * The URL of `op` on the peer at `baseUrl`, each `{name}` of the template replaced by
 * `params[name]`, percent-encoded (so an id cannot add path segments).
 *
 * @throws Error when a parameter of the template is missing
 */
export function operationUrl(
  baseUrl: string,
  op: ServiceOperation,
  params: Readonly<Record<string, string>> = {},
): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${op.method} ${op.path}: no value for '{${name}}'`);
    return encodeURIComponent(value);
  });
  return `${baseUrl.replace(/\/$/, '')}${path}`;
}

const declared = new WeakMap<FastifyInstance, ServiceOperation[]>();

/**
 * Records the peer operations this service calls, for its route contract: `GET /openapi.json`
 * lists them under {@link CALLS_EXTENSION}, sorted and without duplicates. Call it where the
 * calling code is wired (e.g. with the saga definition's operations).
 */
export function declareCalls(app: FastifyInstance, ops: Iterable<ServiceOperation>): void {
  const list = declared.get(app) ?? [];
  list.push(...ops);
  declared.set(app, list);
}

/** The operations {@link declareCalls} recorded for `app`, sorted by service, path and method, unique. */
export function declaredCalls(app: FastifyInstance): ServiceOperation[] {
  const unique = new Map<string, ServiceOperation>();
  for (const o of declared.get(app) ?? []) {
    unique.set(`${o.service} ${o.path} ${o.method}`, { service: o.service, method: o.method, path: o.path });
  }
  return [...unique.values()].sort(
    (a, b) =>
      a.service.localeCompare(b.service) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method),
  );
}
