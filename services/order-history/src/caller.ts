import { HttpProblem } from '@aio/kit';
import type { FastifyRequest } from '@aio/kit';

/** Who is asking: the customer id of a request, or undefined when there is none. */
export type CallerResolver = (request: FastifyRequest) => string | undefined;

/**
 * The one place the caller's customer id comes from: the verified principal the kit's token check
 * puts on the request (`request.principal.customerId`, the token's `sub`, issue 15). Never a body
 * field, a query parameter or a header a client could set.
 */
export const principalCustomer: CallerResolver = (request) => request.principal?.customerId;

/**
 * The caller's customer id, or a 401 problem.
 *
 * @throws HttpProblem 401 when the request carries no verified customer
 */
export function callerCustomerId(request: FastifyRequest, resolve: CallerResolver): string {
  const customerId = resolve(request);
  if (!customerId) throw new HttpProblem(401, 'a bearer token is required');
  return customerId;
}
