import type { Pool, PoolClient } from 'pg';

/** DDL of the table behind {@link withIdempotency}; {@link migrate} creates it. */
export const IDEMPOTENCY_TABLE_SQL = `CREATE TABLE IF NOT EXISTS kit_idempotency (
  scope text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  status_code integer,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
)`;

/** The response an idempotent operation produced, stored and replayed. */
export interface IdempotentResponse<T = unknown> {
  readonly statusCode: number;
  readonly body: T;
}

/** Result of {@link withIdempotency}. */
export interface IdempotentResult<T = unknown> extends IdempotentResponse<T> {
  /** True when the stored response of an earlier call was returned and `fn` did not run. */
  readonly replayed: boolean;
}

/** Identifies one idempotent operation. */
export interface IdempotencyKey {
  /** Operation family, e.g. `authorize`. */
  readonly scope: string;
  /** The caller's key, e.g. the orderId or an `Idempotency-Key` header. */
  readonly key: string;
  /** Digest of the request; a replay with another fingerprint is refused. @default '' */
  readonly fingerprint?: string;
}

/**
 * Thrown when a key is reused with a different request (another fingerprint).
 *
 * Map it to 422: the client reused a key for a different operation.
 */
export class IdempotencyConflictError extends Error {
  constructor(public readonly key: IdempotencyKey) {
    super(`idempotency key ${JSON.stringify(key.key)} was already used for a different ${key.scope} request`);
    this.name = 'IdempotencyConflictError';
  }
}

/**
 * Runs `fn` at most once per (scope, key), and returns its stored response to every later or concurrent call.
 *
 * The key row is inserted in the same transaction as `fn`'s writes (`fn` gets the transaction's client):
 * a concurrent duplicate blocks on the row's unique index until the first commits, then replays its
 * response; if the first rolls back (fn threw), nothing is stored and the duplicate runs `fn` itself.
 *
 * @see https://brandur.org/idempotency-keys
 */
export async function withIdempotency<T>(
  pool: Pool,
  id: IdempotencyKey,
  fn: (client: PoolClient) => Promise<IdempotentResponse<T>>,
): Promise<IdempotentResult<T>> {
  const fingerprint = id.fingerprint ?? '';
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      'INSERT INTO kit_idempotency (scope, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [id.scope, id.key, fingerprint],
    );
    if (inserted.rowCount === 1) {
      const response = await fn(client);
      await client.query(
        'UPDATE kit_idempotency SET status_code = $3, body = $4 WHERE scope = $1 AND key = $2',
        [id.scope, id.key, response.statusCode, JSON.stringify(response.body)],
      );
      await client.query('COMMIT');
      return { ...response, replayed: false };
    }
    await client.query('ROLLBACK');
    const stored = await client.query<{ fingerprint: string; status_code: number; body: T }>(
      'SELECT fingerprint, status_code, body FROM kit_idempotency WHERE scope = $1 AND key = $2',
      [id.scope, id.key],
    );
    const row = stored.rows[0];
    if (!row) throw new Error(`idempotency record ${id.scope}/${id.key} vanished`);
    if (row.fingerprint !== fingerprint) throw new IdempotencyConflictError(id);
    return { statusCode: row.status_code, body: row.body, replayed: true };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
