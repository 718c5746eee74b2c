import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { metricsOf } from '../server.js';
import { countStuckSagas, findStuckSagas, loadSaga, retrySaga } from './private/saga-store.js';
import type { SagaRecord } from './saga-schema.js';

/** Options of {@link registerSagaRoutes}. */
export interface SagaRoutesOptions {
  /** The pool holding the saga tables. */
  readonly pool: Pool;
  /**
   * An unfinished saga not updated for this long counts as stuck.
   *
   * @default 60000
   */
  readonly stuckAfterMs?: number;
}

/** The public JSON view of a saga: state and steps (by name, in recorded order). */
export function sagaView(saga: SagaRecord): Record<string, unknown> {
  return {
    sagaId: saga.id,
    type: saga.type,
    version: saga.version,
    state: saga.state,
    failure: saga.failure ?? undefined,
    deadlineAt: saga.deadlineAt.toISOString(),
    createdAt: saga.createdAt.toISOString(),
    updatedAt: saga.updatedAt.toISOString(),
    finishedAt: saga.finishedAt?.toISOString(),
    steps: Object.entries(saga.steps).map(([name, s]) => ({
      name,
      status: s.status,
      attempts: s.attempts,
      compensationAttempts: s.compensationAttempts,
      lastError: s.lastError,
    })),
  };
}

/**
 * Adds the operator endpoints:
 * - `GET /sagas/:id`: the saga with its steps;
 * - `GET /sagas?stuck=true`: sagas unfinished for longer than `stuckAfterMs`, or waiting for an operator;
 * - `POST /sagas/:id/retry`: resumes a `FAILED_NEEDS_OPERATOR` saga (409 when it is not waiting);
 * - and, on the service's `GET /metrics` (the kit's registry), the gauges `aio_saga_stuck` and
 *   `aio_saga_instances{state}`, read from the saga table at each scrape.
 */
export function registerSagaRoutes(app: FastifyInstance, options: SagaRoutesOptions): void {
  const { pool } = options;
  const stuckAfterMs = options.stuckAfterMs ?? 60_000;
  app.get<{ Params: { id: string } }>('/sagas/:id', async (req, reply) => {
    const saga = isUuid(req.params.id) ? await loadSaga(pool, req.params.id) : undefined;
    if (!saga) return reply.code(404).type('application/problem+json').send(notFound(req.params.id));
    return sagaView(saga);
  });
  app.get<{ Querystring: { stuck?: string } }>('/sagas', async (req, reply) => {
    if (req.query.stuck !== 'true') {
      return reply.code(400).type('application/problem+json').send({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'query stuck=true is required',
      });
    }
    const sagas = await findStuckSagas(pool, stuckAfterMs);
    return { stuckAfterMs, sagas: sagas.map(sagaView) };
  });
  app.post<{ Params: { id: string } }>('/sagas/:id/retry', async (req, reply) => {
    if (!isUuid(req.params.id))
      return reply.code(404).type('application/problem+json').send(notFound(req.params.id));
    if (!(await retrySaga(pool, req.params.id))) {
      return reply
        .code(409)
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          title: 'Conflict',
          status: 409,
          detail: `saga ${req.params.id} is not FAILED_NEEDS_OPERATOR`,
        });
    }
    return { sagaId: req.params.id, status: 'RETRYING' };
  });
  const metrics = metricsOf(app);
  metrics.gauge({
    name: 'aio_saga_stuck',
    help: 'Sagas unfinished past the stuck threshold or waiting for an operator.',
    async collect() {
      this.set(await countStuckSagas(pool, stuckAfterMs));
    },
  });
  metrics.gauge({
    name: 'aio_saga_instances',
    help: 'Saga instances by state.',
    labelNames: ['state'],
    async collect() {
      const { rows } = await pool.query<{ state: string; n: string }>(
        `SELECT state, count(*) AS n FROM saga_instance GROUP BY state`,
      );
      // A state with no saga left disappears instead of keeping its last count.
      this.reset();
      for (const r of rows) this.set({ state: r.state }, Number(r.n));
    },
  });
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

function notFound(id: string) {
  return { type: 'about:blank', title: 'Not Found', status: 404, detail: `no saga ${id}` };
}
