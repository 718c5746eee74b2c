import type { FastifyRequest } from '@aio/kit';

/**
 * The customer writing a review: the one place a handler learns who the caller is. Until the kit
 * verifies tokens and hands handlers a principal (issue 15), it is the body's `customerId`, as the
 * order service does; then it becomes the token's `sub`, and this function alone changes.
 */
export function reviewAuthor(request: FastifyRequest<{ Body: { customerId: string } }>): string {
  return request.body.customerId;
}
