import { fastifySwagger } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { CALLS_EXTENSION, declaredCalls, type ServiceOperation } from './service-calls.js';
import { AUTH_EXTENSION, CUSTOMER_TOKEN_SCHEME, routeAuthLevel } from './auth/route-auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The operation is part of the public API: the gateway may route it. Operator endpoints
     * (stock writes, `/sagas*`, `/metrics`, `/openapi.json`) leave it unset.
     *
     * @default false
     */
    public?: boolean;
    /**
     * A single-resource read whose last path parameter is an id this service mints, and the id's
     * regular expression (unanchored). The gateway sends such reads to the service at every weight,
     * so what a customer created on the service stays readable after a rollback.
     *
     * @default - not an own-id read
     */
    ownIds?: string;
  }
}

/** Where every kit service serves its route contract. Never routed at the edge. */
export const OPENAPI_PATH = '/openapi.json';

/** The OpenAPI extension that marks an operation public, on each operation object. */
export const PUBLIC_EXTENSION = 'x-aio-public';

/** The OpenAPI extension carrying an own-id read's id pattern (route `config.ownIds`). */
export const OWN_IDS_EXTENSION = 'x-aio-own-ids';

/** The subset of an OpenAPI 3.1 document the kit writes (the platform reads it in model/route-contracts.ts). */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Record<string, Record<string, Record<string, unknown>>>;
  /** `securitySchemes.customerToken` (HTTP bearer, JWT) when an operation needs a customer token. */
  readonly components?: Record<string, unknown>;
  /** The peer operations the service calls ({@link declareCalls}), when it calls any. */
  readonly [CALLS_EXTENSION]?: readonly ServiceOperation[];
}

/** Fastify's `/orders/:orderId` as the OpenAPI template `/orders/{orderId}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Registers @fastify/swagger (OpenAPI 3.1 from the route schemas) and `GET /openapi.json`, which
 * serves the document with each operation marked {@link PUBLIC_EXTENSION} when its route has
 * `config: { public: true }`, and the peer operations the service calls ({@link CALLS_EXTENSION},
 * from {@link declareCalls}) at the top level. Call before any route is added: swagger collects routes as they are
 * declared, so it is called synchronously (no `await app.register`).
 *
 * @see https://github.com/fastify/fastify-swagger#usage
 */
export function registerContract(app: FastifyInstance, info: { title: string; version: string }): void {
  const marks = new Map<string, Record<string, unknown>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const level = routeAuthLevel(route.config);
    // who may call it (x-aio-auth) on every operation; OpenAPI's own `security` on routable ones
    const extensions: Record<string, unknown> = {
      [AUTH_EXTENSION]: level,
      ...(level === 'customer' ? { security: [{ [CUSTOMER_TOKEN_SCHEME]: [] }] } : {}),
      ...(level === 'public' ? { security: [] } : {}),
      ...(route.config?.public ? { [PUBLIC_EXTENSION]: true } : {}),
      ...(route.config?.public && route.config.ownIds ? { [OWN_IDS_EXTENSION]: route.config.ownIds } : {}),
    };
    for (const m of methods) marks.set(`${m.toUpperCase()} ${openApiPath(route.url)}`, extensions);
  });
  // The plugin's own function, called on the root instance: `app.register` would install its
  // onRoute hook only once the app loads, after the routes it must see were declared.
  fastifySwagger(app, { openapi: { openapi: '3.1.0', info } }, (error?: Error) => {
    if (error) throw error;
  });
  let cached: OpenApiDocument | undefined;
  app.get(OPENAPI_PATH, { logLevel: 'warn' }, async () => {
    if (!cached) {
      const calls = declaredCalls(app);
      cached = {
        ...markPublic(app.swagger() as unknown as OpenApiDocument, marks),
        ...(calls.length ? { [CALLS_EXTENSION]: calls } : {}),
      };
    }
    return cached;
  });
}

function markPublic(
  doc: OpenApiDocument,
  marks: ReadonlyMap<string, Record<string, unknown>>,
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  let customer = false;
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    paths[path] = {};
    for (const [method, op] of Object.entries(item)) {
      const mark = marks.get(`${method.toUpperCase()} ${path}`);
      if (mark?.[AUTH_EXTENSION] === 'customer') customer = true;
      paths[path][method] = { ...op, ...mark };
    }
  }
  if (!customer) return { ...doc, paths };
  // https://spec.openapis.org/oas/v3.1.0#security-scheme-object
  const securitySchemes = {
    [CUSTOMER_TOKEN_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: "a customer's token from the platform's OIDC issuer (identity in platform.yaml)",
    },
  };
  return { ...doc, paths, components: { ...doc.components, securitySchemes } };
}
