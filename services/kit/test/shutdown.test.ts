import { describe, expect, test } from 'vitest';
import { parseConfig, runService, serviceConfigSchema } from '../src/index.js';
import { createTestDatabase } from '../src/testing/index.js';

describe('RunningService.close', () => {
  test('finishes in-flight requests, runs close hooks before the pool ends, then refuses connections', async () => {
    const db = await createTestDatabase('kit_shutdown');
    try {
      const events: string[] = [];
      const service = await runService({
        name: 'kit-shutdown-test',
        config: parseConfig(serviceConfigSchema, {
          DATABASE_URL: db.url,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
        }),
        processHooks: false,
        routes: ({ app, pool, onClose }) => {
          app.get('/slow', async () => {
            await new Promise((r) => setTimeout(r, 300));
            // The pool is still open while the request finishes.
            return (await pool.query('SELECT 1 AS one')).rows[0];
          });
          onClose(async () => {
            events.push(`hook, pool open: ${(await pool.query('SELECT 1 AS one')).rowCount === 1}`);
          });
        },
      });
      const inFlight = fetch(`${service.url}/slow`);
      await new Promise((r) => setTimeout(r, 50));
      const closing = service.close();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ one: 1 });
      await closing;
      expect(events).toEqual(['hook, pool open: true']);
      await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
      await expect(service.pool.query('SELECT 1')).rejects.toThrow();
    } finally {
      await db.drop();
    }
  });
});
