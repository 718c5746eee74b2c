import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../problem.js';

/**
 * The caller a verified customer token names. Handlers read it from `request.principal`; nothing a
 * client sends in another header (`x-customer-id`, `x-user`, ...) is ever identity.
 */
export interface Principal {
  /** The token's `sub`: the customer every own-data rule is keyed by. */
  readonly customerId: string;
  /** The issuer that signed the token (`iss`). */
  readonly issuer: string;
  /** When the token expires (`exp`), in seconds since the epoch. */
  readonly expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified caller of a route with `auth: 'customer'` (set by the kit before the handler
     * runs); `undefined` on public and operator routes.
     */
    principal: Principal | undefined;
  }
}

/**
 * The customer of a request on a customer route: `request.principal.customerId`.
 *
 * @throws HttpProblem 401 when the route has no verified principal (a handler of a public or
 *   operator route that asked for one: a bug, answered as unauthenticated rather than trusted)
 */
export function customerOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal)
    throw new HttpProblem(401, 'a customer token is required: send Authorization: Bearer <token>');
  return principal.customerId;
}

/**
 * The customer of a customer route, checked against a customer id the client also sent (a body
 * member or a query parameter kept for compatibility): the token decides, and a different value is
 * refused, never trusted or silently replaced.
 *
 * @param claimed what the client sent, if anything
 * @param field where it was sent, for the message, e.g. `customerId` or `query customerId`
 * @throws HttpProblem 403 when `claimed` is not the token's customer
 */
export function ownCustomer(
  request: FastifyRequest,
  claimed: string | undefined,
  field = 'customerId',
): string {
  const customerId = customerOf(request);
  if (claimed !== undefined && claimed !== customerId) {
    throw new HttpProblem(
      403,
      `${field}: must be the customer of the token or left out; a customer acts only for themselves`,
      { 'invalid-params': [{ name: field, reason: 'is not the customer of the token' }] },
    );
  }
  return customerId;
}
