/**
 * The monolith baseline for `npm run bench:saga`: one process with the order service's HTTP API,
 * where one Postgres transaction checks and decrements stock, writes the payment row and the order
 * row. Started as its own process: `DATABASE_URL=... PORT=... node lib/bench/saga-monolith.mjs`.
 */
import { startTracing } from '@aio/kit/tracing';
import { randomUUID } from 'node:crypto';

// the same observability stack as the services (OTEL_SDK_DISABLED=true in the bench: propagation only)
startTracing({ serviceName: 'monolith' });
const { default: Fastify } = await import('fastify');
const { default: pg } = await import('pg');

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });

await pool.query(`
CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, available integer NOT NULL CHECK (available >= 0), sold integer NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS payments (order_id uuid PRIMARY KEY, amount numeric(14,2) NOT NULL, status text NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  order_id uuid PRIMARY KEY, customer_id text NOT NULL, status text NOT NULL, rejection_reason text,
  items jsonb NOT NULL, total numeric(14,2) NOT NULL, currency text NOT NULL, idempotency_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now());`);

interface Body {
  customerId: string;
  currency: string;
  paymentToken: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
}

const DECLINES: Record<string, string> = {
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};
const app = Fastify({ logger: false });

app.put<{ Params: { sku: string }; Body: { available: number } }>('/stock/:sku', async (req) => {
  await pool.query(
    'INSERT INTO stock (sku, available) VALUES ($1, $2) ON CONFLICT (sku) DO UPDATE SET available = $2, sold = 0',
    [req.params.sku, req.body.available],
  );
  return { sku: req.params.sku, available: req.body.available };
});

app.post<{ Body: Body }>('/orders', async (req, reply) => {
  const key = req.headers['idempotency-key'] as string | undefined;
  const b = req.body;
  const orderId = randomUUID();
  const total = Math.round(b.items.reduce((s, i) => s + i.quantity * i.unitPrice, 0) * 100) / 100;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let reason: string | undefined = DECLINES[b.paymentToken];
    // lock rows in a fixed order so that concurrent orders never deadlock
    for (const item of [...b.items].sort((x, y) => x.sku.localeCompare(y.sku))) {
      if (reason) break;
      const r = await client.query(
        'UPDATE stock SET available = available - $2, sold = sold + $2 WHERE sku = $1 AND available >= $2',
        [item.sku, item.quantity],
      );
      if (r.rowCount === 0) reason = 'INSUFFICIENT_STOCK';
    }
    if (reason) {
      await client.query('ROLLBACK');
      await client.query('BEGIN');
    } else {
      await client.query(`INSERT INTO payments (order_id, amount, status) VALUES ($1, $2, 'CAPTURED')`, [
        orderId,
        total,
      ]);
    }
    const ins = await client.query(
      `INSERT INTO orders (order_id, customer_id, status, rejection_reason, items, total, currency, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        orderId,
        b.customerId,
        reason ? 'REJECTED' : 'APPROVED',
        reason ?? null,
        JSON.stringify(b.items),
        total,
        b.currency,
        key ?? null,
      ],
    );
    if (ins.rowCount === 0) {
      await client.query('ROLLBACK');
      const { rows } = await pool.query('SELECT order_id, status FROM orders WHERE idempotency_key = $1', [
        key,
      ]);
      return reply.code(202).send({ orderId: rows[0].order_id, status: rows[0].status });
    }
    await client.query('COMMIT');
    return reply.code(202).send({ orderId, status: reason ? 'REJECTED' : 'APPROVED' });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
});

app.get<{ Params: { id: string } }>('/orders/:id', async (req, reply) => {
  const { rows } = await pool.query(
    'SELECT order_id AS "orderId", status, rejection_reason AS "rejectionReason", items, total::float8 AS total FROM orders WHERE order_id = $1',
    [req.params.id],
  );
  if (!rows[0]) return reply.code(404).send({ status: 404 });
  return rows[0];
});

app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
);
