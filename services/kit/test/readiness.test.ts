import { describe, expect, test } from 'vitest';
import { createLogger, createServer, HttpProblem, serverState } from '../src/index.js';

const logger = createLogger({ name: 'kit-readiness-test', level: 'silent' });

describe('createServer', () => {
  test('answers /readyz 503 naming the failing check, and 503 while draining', async () => {
    const app = createServer({
      logger,
      readinessChecks: { db: async () => 1, redis: () => Promise.reject(new Error('connection refused')) },
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      detail: 'not ready: redis',
      checks: { db: 'ok', redis: 'failed' },
    });
    serverState(app).draining = true;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      status: 503,
      detail: 'shutting down',
    });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  test('turns HttpProblem into its status and hides internal errors behind a 500 problem', async () => {
    const app = createServer({ logger });
    app.get('/conflict', async () => {
      throw new HttpProblem(409, 'order o-1 is already paid', { orderId: 'o-1' });
    });
    app.get('/boom', async () => {
      throw new Error('secret connection string postgres://u:p@h/db');
    });
    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'order o-1 is already paid',
      orderId: 'o-1',
    });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('secret');
    await app.close();
  });
});
