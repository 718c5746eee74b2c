import {
  defineSaga,
  operationUrl,
  participantCall,
  serviceOperation,
  StepFailure,
  type ParticipantReply,
  type RetryPolicy,
  type SagaDefinition,
  type ServiceOperation,
} from '@aio/kit';
import { orderEvent } from './order-events.js';

/** One order line, priced by the catalog. */
export interface OrderItem {
  readonly sku: string;
  readonly quantity: number;
  /** The catalog's price, in major units of the order's currency. */
  readonly unitPrice: number;
  /**
   * The product version the price was read at.
   *
   * @default - absent on orders placed before the catalog priced them
   */
  readonly catalogVersion?: number;
}

/** What the order saga needs, stored with the saga instance. */
export interface PlaceOrderInput {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: readonly OrderItem[];
  readonly total: number;
  readonly currency: string;
  readonly paymentToken: string;
  /** When the order was placed (ISO 8601), as stored in the order row; absent in sagas created before. */
  readonly placedAt?: string;
}

/** Props of {@link placeOrderSaga}. */
export interface PlaceOrderSagaProps {
  /** Inventory base URL. */
  readonly inventoryUrl: string;
  /** Payment base URL. */
  readonly paymentUrl: string;
  /** Time after which an order that has not committed its reservation is rejected and compensated. */
  readonly deadlineMs: number;
  /**
   * Timeout of one participant call.
   *
   * @default 2000
   */
  readonly callTimeoutMs?: number;
}

/** The saga type name of order placement. */
export const PLACE_ORDER = 'place-order';

/** Step names; they are the durable keys of the step log, so never rename one in place. */
export const ORDER_STEPS = [
  'reserveStock',
  'authorizePayment',
  'commitReservation',
  'capturePayment',
] as const;

/**
 * The participant operations the order saga calls, and nothing else: every call below builds its
 * URL and method from one of these, and the service declares them in its route contract
 * (`x-aio-calls`), from which the platform grants order exactly these operations on inventory and
 * payment in the mesh (AuthorizationPolicy `to.operation`).
 */
export const PLACE_ORDER_CALLS = {
  reserve: serviceOperation('inventory', 'POST', '/reservations'),
  releaseReservation: serviceOperation('inventory', 'POST', '/reservations/{orderId}/release'),
  commitReservation: serviceOperation('inventory', 'POST', '/reservations/{orderId}/commit'),
  authorizePayment: serviceOperation('payment', 'POST', '/payments'),
  voidPayment: serviceOperation('payment', 'POST', '/payments/{orderId}/void'),
  capturePayment: serviceOperation('payment', 'POST', '/payments/{orderId}/capture'),
} as const satisfies Record<string, ServiceOperation>;

/**
 * Before the pivot: 10 attempts, 50 ms doubling, capped at 2 s (about 9 s of backoff, enough to ride
 * out a participant restart), then the order is rejected and compensated.
 */
const beforePivot: RetryPolicy = { maxAttempts: 10, initialDelayMs: 50, maxDelayMs: 2000 };

/**
 * The commit, the capture and every compensation must happen: 60 attempts
 * (80 to 110 s of backoff) before an operator is asked to step in (`FAILED_NEEDS_OPERATOR`, `POST /sagas/:id/retry`).
 */
const untilDone: RetryPolicy = { maxAttempts: 60, initialDelayMs: 50, maxDelayMs: 2000 };

/**
 * The order saga, version 1: reserve stock → authorize payment → commit the reservation (pivot) →
 * capture the payment → APPROVED. Out of stock rejects without a payment call; a decline releases
 * the reservation; an expired reservation voids the payment and releases.
 */
export function placeOrderSaga(props: PlaceOrderSagaProps): SagaDefinition<PlaceOrderInput> {
  const timeoutMs = props.callTimeoutMs ?? 2000;
  const baseUrls: Record<string, string> = { inventory: props.inventoryUrl, payment: props.paymentUrl };
  const call = (op: ServiceOperation, orderId?: string, body?: unknown): Promise<ParticipantReply> =>
    participantCall({
      url: operationUrl(baseUrls[op.service]!, op, orderId === undefined ? {} : { orderId }),
      method: op.method,
      ...(body === undefined ? {} : { body }),
      participant: op.service,
      timeoutMs,
    });
  const ops = PLACE_ORDER_CALLS;
  return defineSaga<PlaceOrderInput>({
    type: PLACE_ORDER,
    version: 1,
    deadlineMs: props.deadlineMs,
    steps: [
      {
        name: 'reserveStock',
        kind: 'COMPENSABLE',
        retry: beforePivot,
        timeoutMs: timeoutMs + 500,
        action: async ({ input }) => {
          const items = input.items.map(({ sku, quantity }) => ({ sku, quantity }));
          const reply = await call(ops.reserve, undefined, { orderId: input.orderId, items });
          return { expiresAt: reply.body.expiresAt };
        },
        compensation: {
          retry: untilDone,
          run: async ({ input }) => {
            await nothingToUndoIsOk(() => call(ops.releaseReservation, input.orderId));
          },
        },
      },
      {
        name: 'authorizePayment',
        kind: 'COMPENSABLE',
        retry: beforePivot,
        timeoutMs: timeoutMs + 500,
        action: async ({ input }) => {
          const { orderId, customerId, total, currency, paymentToken } = input;
          await call(ops.authorizePayment, undefined, {
            orderId,
            customerId,
            amount: total,
            currency,
            paymentToken,
          });
          return { authorized: true };
        },
        compensation: {
          retry: untilDone,
          run: async ({ input }) => {
            await nothingToUndoIsOk(() => call(ops.voidPayment, input.orderId));
          },
        },
      },
      {
        name: 'commitReservation',
        kind: 'PIVOT',
        retry: untilDone,
        timeoutMs: timeoutMs + 500,
        action: async ({ input }) => {
          try {
            await call(ops.commitReservation, input.orderId);
          } catch (err) {
            // 409 (expired or released) and 404 (swept and forgotten) both mean the stock is gone
            if (err instanceof StepFailure && err.kind === 'REJECTED')
              throw StepFailure.rejected('RESERVATION_EXPIRED', err.status);
            throw err;
          }
          return { committed: true };
        },
      },
      {
        name: 'capturePayment',
        kind: 'RETRIABLE',
        retry: untilDone,
        timeoutMs: timeoutMs + 500,
        action: async ({ input }) => {
          await call(ops.capturePayment, input.orderId);
          return { captured: true };
        },
      },
    ],
    // APPROVED or REJECTED in the very statement that records the end of the saga
    onFinish: (outcome) => {
      const approved = outcome.state === 'COMPLETED';
      const status = approved ? 'APPROVED' : 'REJECTED';
      const rejectionReason = approved ? null : (outcome.failure?.reason ?? 'REJECTED');
      return {
        sql: `UPDATE orders SET status = $1, rejection_reason = $2, updated_at = now()
               WHERE order_id = (SELECT id FROM saga_finished)`,
        params: [status, rejectionReason],
        // the event is recorded by the same statement, only when this worker still held the lease
        events: [orderEvent(outcome.input, status, rejectionReason)],
      };
    },
  });
}

/** A compensation succeeds when the participant has nothing to undo (404: it never saw the order). */
async function nothingToUndoIsOk(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (err instanceof StepFailure && err.status === 404) return;
    throw err;
  }
}
