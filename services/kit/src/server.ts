import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { HttpProblem, invalidParams, sendProblem } from './problem.js';

export type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A readiness check: resolves when the dependency answers, throws otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

/** Options for {@link createServer}. */
export interface ServerProps {
  /** The service's logger; Fastify's request logs go through it. */
  readonly logger: Logger;
  /** Named checks run by `/readyz`, e.g. `{ db: () => pool.query('SELECT 1') }`. @default - none */
  readonly readinessChecks?: Record<string, ReadinessCheck>;
  /** A check that takes longer fails. @default 2000 */
  readonly readinessTimeoutMs?: number;
  /** Maximum request body size in bytes. @default 1048576 */
  readonly bodyLimit?: number;
}

/** Flags read by `/readyz`; {@link runService} flips `draining` on SIGTERM. */
export interface ServerState {
  draining: boolean;
}

const states = new WeakMap<FastifyInstance, ServerState>();

/** The drain state of a server made by {@link createServer}. */
export function serverState(app: FastifyInstance): ServerState {
  const state = states.get(app);
  if (!state) throw new Error('serverState: the app was not made by createServer');
  return state;
}

/**
 * Creates a Fastify app with the kit's conventions.
 *
 * - `GET /healthz`: liveness, 200 while the event loop runs.
 * - `GET /readyz`: 200 when every readiness check passes, else 503 naming the failing ones; 503 while draining.
 * - Validation errors become 400 `application/problem+json` with `invalid-params` naming each field;
 *   {@link HttpProblem} becomes a problem document with its status; unknown errors a 500 without internals.
 * - Every response carries `x-trace-id` when a span is active.
 *
 * Routes declare `schema: { body, params, response }` as JSON Schema; Fastify validates with ajv.
 *
 * @see https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/
 */
export function createServer(props: ServerProps): FastifyInstance {
  const checks = props.readinessChecks ?? {};
  const timeoutMs = props.readinessTimeoutMs ?? 2000;
  const app = Fastify({
    loggerInstance: props.logger as unknown as FastifyBaseLogger,
    bodyLimit: props.bodyLimit ?? 1_048_576,
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && header.length <= 128 ? header : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const state: ServerState = { draining: false };
  states.set(app, state);

  // preClose runs when app.close() starts, before the listener stops.
  app.addHook('preClose', async () => {
    state.draining = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    const ctx = trace.getActiveSpan()?.spanContext();
    if (ctx && isSpanContextValid(ctx)) void reply.header('x-trace-id', ctx.traceId);
    // A keep-alive socket would hold server.close() open after its in-flight request finished.
    if (state.draining) void reply.header('connection', 'close');
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpProblem) return sendProblem(reply, error.status, error.detail, error.extra);
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const params = invalidParams(fastifyError);
      const detail = params.map((p) => `${p.name}: ${p.reason}`).join('; ');
      return sendProblem(reply, 400, detail, { 'invalid-params': params });
    }
    const status = fastifyError.statusCode ?? 500;
    if (status < 500) return sendProblem(reply, status, fastifyError.message.toLowerCase());
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, status, 'internal error; see the service logs for the trace id');
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, `no route for ${request.method} ${request.url.split('?')[0]}`),
  );

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    if (state.draining) return sendProblem(reply, 503, 'shutting down');
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          results[name] = 'ok';
        } catch (error) {
          results[name] = (error as Error).message || 'failed';
        }
      }),
    );
    const failing = Object.keys(results).filter((k) => results[k] !== 'ok');
    if (failing.length)
      return sendProblem(reply, 503, `not ready: ${failing.join(', ')}`, { checks: results });
    return { status: 'ready', checks: results };
  });

  return app;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
