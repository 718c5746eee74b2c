import { ownCustomer } from '@aio/kit';
import type { FastifyRequest } from '@aio/kit';

/**
 * The customer writing a review: the one place a handler learns who the caller is. It is the
 * verified token's subject (`request.principal`, set by the kit on `auth: customer` routes); a body
 * `customerId` is optional and, when sent, must be that same customer (403 otherwise).
 */
export function reviewAuthor(request: FastifyRequest<{ Body: { customerId?: string } }>): string {
  return ownCustomer(request, request.body.customerId);
}
