import { deleteRedisKeys, randomSuffix, TEST_REDIS_URL } from '@aio/kit/testing';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'lib/bin/aio.js');
const dbPrefix = `aio_test_dev_${randomSuffix()}`;
const redisPrefix = `test:dev:${randomSuffix()}:`;

async function portsFree(base: number): Promise<boolean> {
  for (const port of [base, base + 1, base + 2]) {
    const srv = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) return false;
    srv.close();
    await once(srv, 'close');
  }
  return true;
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  for (const s of ['order', 'inventory', 'payment'])
    await admin.query(`DROP DATABASE IF EXISTS ${dbPrefix}_${s} WITH (FORCE)`);
  await admin.end();
  const { Redis } = await import('ioredis');
  const redis = new Redis(TEST_REDIS_URL);
  await deleteRedisKeys(redis, redisPrefix);
  redis.disconnect();
});

describe('aio dev', () => {
  test.skipIf(!existsSync(CLI))(
    'creates the databases, seeds stock, serves an order and stops all three on Ctrl-C',
    async () => {
      let base = 20000 + Math.floor(Math.random() * 20000);
      while (!(await portsFree(base))) base += 3;
      const child = spawn(
        process.execPath,
        [CLI, 'dev', '--base-port', String(base), '--db-prefix', dbPrefix, '--redis-prefix', redisPrefix],
        {
          env: { ...process.env, OTEL_SDK_DISABLED: 'true', LOG_LEVEL: 'warn', DB_POOL_MAX: '3' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = once(child, 'exit');
      const deadline = Date.now() + 60_000;
      while (!stdout.includes('press Ctrl-C to stop')) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`aio dev did not come up:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout).toContain(`order      http://127.0.0.1:${base}`);
      expect(stderr).toContain(`created database ${dbPrefix}_order`);
      const stock = (await (await fetch(`http://127.0.0.1:${base + 1}/stock/DEMO-MUG`)).json()) as {
        available: number;
      };
      expect(stock.available).toBe(50);
      const placed = await fetch(`http://127.0.0.1:${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: 'dev',
          currency: 'EUR',
          paymentToken: 'tok_visa',
          items: [{ sku: 'DEMO-MUG', quantity: 1, unitPrice: 9.5 }],
        }),
      });
      const { orderId } = (await placed.json()) as { orderId: string };
      const order = (await (
        await fetch(`http://127.0.0.1:${base}/orders/${orderId}?waitMs=15000`)
      ).json()) as { status: string };
      expect(order.status).toBe('APPROVED');

      child.kill('SIGINT');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(stderr).toContain('stopped');
      expect(await portsFree(base)).toBe(true); // all three children are gone
    },
    120_000,
  );
});
