import type { SqlStatement } from '@aio/kit';
import type { Pool, PoolClient } from 'pg';
import { orderEvent } from './order-events.js';
import type { OrderItem } from './order-saga.js';

/** Order statuses of the public contract. */
export type OrderStatus = 'PENDING' | 'APPROVED' | 'REJECTED';

/** One order row. */
export interface OrderRow {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderStatus;
  readonly rejectionReason: string | null;
  readonly items: OrderItem[];
  readonly total: number;
  readonly currency: string;
  readonly requestHash: string;
}

const COLUMNS = `order_id AS "orderId", customer_id AS "customerId", status, rejection_reason AS "rejectionReason",
  items, total::float8 AS total, currency, request_hash AS "requestHash"`;

/**
 * The statement that inserts a PENDING order, for `SagaEngine.createWith` (order, saga and the
 * `order.placed` event in one statement). With an idempotency key its customer already used it returns no row, so
 * no saga and no event are created either (concurrent duplicates wait for the first one to commit).
 * `placedAt` (default now) is the row's `created_at`; give the saga input the same value.
 */
export function orderInsert(
  order: Omit<OrderRow, 'status' | 'rejectionReason'> & { readonly placedAt?: string },
  idempotencyKey: string | undefined,
): SqlStatement {
  const placedAt = order.placedAt ?? new Date().toISOString();
  return {
    sql: `INSERT INTO orders (order_id, customer_id, status, items, total, currency, idempotency_key, request_hash, created_at)
          VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8)
          ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING order_id`,
    params: [
      order.orderId,
      order.customerId,
      JSON.stringify(order.items),
      order.total,
      order.currency,
      idempotencyKey ?? null,
      order.requestHash,
      placedAt,
    ],
    events: [orderEvent({ ...order, placedAt }, 'PENDING', null)],
  };
}

/** The order `customerId` created with `idempotencyKey`, if any: keys are each customer's own. */
export async function findByIdempotencyKey(
  pool: Pool | PoolClient,
  customerId: string,
  idempotencyKey: string,
): Promise<OrderRow | undefined> {
  const { rows } = await pool.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders WHERE customer_id = $1 AND idempotency_key = $2`,
    [customerId, idempotencyKey],
  );
  return rows[0];
}

/** One order, or undefined. */
export async function findOrder(pool: Pool, orderId: string): Promise<OrderRow | undefined> {
  const { rows } = await pool.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE order_id = $1`, [orderId]);
  return rows[0];
}

/** A customer's orders, newest first. */
export async function listOrders(pool: Pool, customerId: string, limit: number): Promise<OrderRow[]> {
  const { rows } = await pool.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [customerId, limit],
  );
  return rows;
}
