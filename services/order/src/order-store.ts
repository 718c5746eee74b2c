import type { SqlStatement } from '@aio/kit';
import type { Pool, PoolClient } from 'pg';
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
 * The statement that inserts a PENDING order, for `SagaEngine.createWith` (order and saga in one
 * statement). With an idempotency key already used it returns no row, so no saga is created either
 * (concurrent duplicates wait for the first one to commit).
 */
export function orderInsert(
  order: Omit<OrderRow, 'status' | 'rejectionReason'>,
  idempotencyKey: string | undefined,
): SqlStatement {
  return {
    sql: `INSERT INTO orders (order_id, customer_id, status, items, total, currency, idempotency_key, request_hash)
          VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7)
          ON CONFLICT (idempotency_key) DO NOTHING RETURNING order_id`,
    params: [
      order.orderId,
      order.customerId,
      JSON.stringify(order.items),
      order.total,
      order.currency,
      idempotencyKey ?? null,
      order.requestHash,
    ],
  };
}

/** The order created with `idempotencyKey`, if any. */
export async function findByIdempotencyKey(
  pool: Pool | PoolClient,
  idempotencyKey: string,
): Promise<OrderRow | undefined> {
  const { rows } = await pool.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE idempotency_key = $1`, [
    idempotencyKey,
  ]);
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
