import type { OutboxEvent } from '@aio/kit';
import type { PlaceOrderInput } from './order-saga.js';
import type { OrderStatus } from './order-store.js';

/** The order's aggregate type in the outbox. */
export const ORDER_AGGREGATE = 'order';

/** Event types by the status they record. */
const EVENT_TYPE: Record<OrderStatus, string> = {
  PENDING: 'order.placed',
  APPROVED: 'order.approved',
  REJECTED: 'order.rejected',
};

/**
 * The order's state after a change, as one outbox event (schema version 1): `order.placed` with the
 * order row, `order.approved` / `order.rejected` from the saga's finish hook, in the statement that
 * writes the status. Every one carries the whole order (customer, items, total, placedAt), so a
 * consumer that sees `approved` before `placed` still has everything. Never the payment token.
 */
export function orderEvent(
  input: Omit<PlaceOrderInput, 'paymentToken'> & { readonly paymentToken?: string },
  status: OrderStatus,
  rejectionReason: string | null,
): OutboxEvent {
  return {
    aggregateType: ORDER_AGGREGATE,
    aggregateId: input.orderId,
    type: EVENT_TYPE[status],
    schemaVersion: 1,
    payload: {
      orderId: input.orderId,
      customerId: input.customerId,
      status,
      ...(rejectionReason ? { rejectionReason } : {}),
      items: input.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
      total: input.total,
      currency: input.currency,
      ...(input.placedAt ? { placedAt: input.placedAt } : {}),
    },
  };
}
