import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../problem.js';
import { KeysUnavailable, TokenRejected, type TokenVerifier } from './token-verifier.js';

/**
 * Who may call a route, as the route declares it in `config.auth`:
 *
 * - `customer`: a valid customer token (`Authorization: Bearer`) is required; its subject is the
 *   route's `request.principal`. The default of a route the gateway may route (`public: true`).
 * - `public`: anyone, no token (catalog browsing, stock reads); a token sent is ignored.
 * - `operator`: no customer token; the mesh admits only `mesh.operators` and the declared callers
 *   (docs/security.md). The default of a route without `public: true`, which the gateway never routes.
 */
export type AuthLevel = 'customer' | 'public' | 'operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call the route ({@link AuthLevel}).
     *
     * @default - `customer` when `public` is true, else `operator`
     */
    auth?: AuthLevel;
  }
}

/** The OpenAPI extension naming each operation's {@link AuthLevel}. */
export const AUTH_EXTENSION = 'x-aio-auth';

/** The OpenAPI security scheme of customer operations. */
export const CUSTOMER_TOKEN_SCHEME = 'customerToken';

/** The level of a route config: its `auth`, else customer for a routable route and operator otherwise. */
export function routeAuthLevel(config: Partial<FastifyContextConfig> | undefined): AuthLevel {
  return config?.auth ?? (config?.public ? 'customer' : 'operator');
}

/**
 * Checks the customer token of every `customer` route before the body is read (`onRequest`), puts the
 * verified {@link Principal} on `request.principal`, and refuses at declaration a customer route on
 * a server without a verifier (a service never runs such a route unauthenticated) and an operator
 * route marked public.
 *
 * Answers (RFC 9457 problem documents):
 * - no `Authorization: Bearer` → 401 with `WWW-Authenticate: Bearer realm="<service>"`;
 * - an invalid token → 401 with `error="invalid_token"` and what was wrong (RFC 6750 section 3);
 * - the issuer's keys unreadable → 503 with `Retry-After`, never a 500.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function registerRouteAuth(
  app: FastifyInstance,
  verifier: TokenVerifier | undefined,
  realm: string,
): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    const level = routeAuthLevel(route.config);
    const what = `${Array.isArray(route.method) ? route.method.join(',') : route.method} ${route.url}`;
    if (level === 'operator' && route.config?.public) {
      throw new Error(
        `${what}: auth 'operator' on a public route; the gateway would route an operator operation. Drop 'public' or choose auth 'customer' or 'public'`,
      );
    }
    if (level === 'customer' && !verifier) {
      throw new Error(
        `${what} needs a customer token (auth 'customer'), but the service has no token issuer: set AUTH_ISSUER and AUTH_AUDIENCE (docs/security.md, "The kit's token check"), or declare the route auth 'public'`,
      );
    }
  });
  if (!verifier) return;
  app.addHook('onRequest', async (request, reply) => {
    if (routeAuthLevel(request.routeOptions.config) !== 'customer') return;
    return authenticate(request, reply, verifier, realm);
  });
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  verifier: TokenVerifier,
  realm: string,
): Promise<FastifyReply | undefined> {
  const header = request.headers.authorization;
  const match = header ? BEARER.exec(header) : null;
  try {
    if (!header)
      throw new TokenRejected('missing', 'a customer token is required: send Authorization: Bearer <token>');
    if (!match) throw new TokenRejected('invalid', 'the Authorization header is not Bearer <token>');
    request.principal = await verifier.verify(match[1] ?? '');
    return undefined;
  } catch (err) {
    if (err instanceof TokenRejected) {
      const challenge =
        err.reason === 'missing'
          ? `Bearer realm="${realm}"`
          : `Bearer realm="${realm}", error="invalid_token", error_description="${err.message}"`;
      void reply.header('www-authenticate', challenge);
      return sendProblem(reply, 401, err.message);
    }
    if (err instanceof KeysUnavailable) {
      request.log.warn({ err, jwksUri: verifier.jwksUri }, 'token issuer keys unavailable');
      void reply.header('retry-after', '5');
      return sendProblem(reply, 503, 'the token issuer cannot be reached; retry later');
    }
    throw err;
  }
}
