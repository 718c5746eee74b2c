import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { clientErrorHandler, frameworkErrors } from './private/client-errors.js';
import { kitValidatorCompiler } from './private/validator-compilers.js';
import { registerContract } from './contract.js';
import { instrumentHttp, registerMetricsRoute, ServiceMetrics } from './metrics/index.js';
import { HttpProblem, invalidParams, sendProblem } from './problem.js';
import { registerRouteAuth } from './auth/route-auth.js';
import type { TokenVerifier } from './auth/token-verifier.js';

export type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A readiness check: resolves when the dependency answers, throws otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

/**
 * Thrown by a readiness check to report a state of its own (`rebuilding`) instead of `failed`.
 *
 * `/readyz` shows only these states, never an error message: a message such as
 * `connect ECONNREFUSED 127.0.0.1:5439` names an address, and is logged instead.
 */
export class NotReadyError extends Error {
  constructor(
    /** The state `/readyz` shows for the check, e.g. `rebuilding`. */
    public readonly state: string,
  ) {
    super(state);
    this.name = 'NotReadyError';
  }
}

/**
 * Limits that keep slow or idle clients from pinning a process (slowloris headers, slow bodies, idle
 * keep-alive connections, too many sockets). {@link runService} fills them from the `HTTP_*` env.
 *
 * @see https://nodejs.org/api/http.html#serverheaderstimeout
 * @see https://fastify.dev/docs/latest/Reference/Server/#requesttimeout
 */
export interface HttpLimits {
  /** Time to receive the complete headers; then 408 and close. @default 10000 */
  readonly headersTimeoutMs?: number;
  /** Time to receive the complete request, headers and body; then 408 and close. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Idle time after a response before a keep-alive connection is closed. @default 72000 */
  readonly keepAliveTimeoutMs?: number;
  /** Open connections accepted; further ones are closed at once. @default 1000 */
  readonly maxConnections?: number;
}

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
  /** Timeouts and the connection cap. @default - the defaults of each {@link HttpLimits} member */
  readonly http?: HttpLimits;
  /**
   * The service's name: every response carries `x-served-by: <name>`, so anyone can see which side
   * of a migrated path answered, and it titles the route contract at `GET /openapi.json`.
   *
   * @default 'service'
   */
  readonly name?: string;
  /** The contract's `info.version`. @default '0.0.0' */
  readonly version?: string;
  /**
   * The service's Prometheus registry, served at `GET /metrics` with the HTTP request metrics.
   *
   * @default - a new {@link ServiceMetrics} with the default process metrics
   */
  readonly metrics?: ServiceMetrics;
  /**
   * Verifies the customer token of every `auth: 'customer'` route (see `auth/route-auth.ts`).
   *
   * @default - none: declaring a customer route throws
   */
  readonly auth?: TokenVerifier;
}

/** Flags read by `/readyz`; {@link runService} flips `draining` on SIGTERM. */
export interface ServerState {
  draining: boolean;
}

const states = new WeakMap<FastifyInstance, ServerState>();
const registries = new WeakMap<FastifyInstance, ServiceMetrics>();

/**
 * The metrics registry of a server made by {@link createServer}, for kit modules that get only the
 * app (`registerSagaRoutes`) and add their own metrics to it.
 */
export function metricsOf(app: FastifyInstance): ServiceMetrics {
  const metrics = registries.get(app);
  if (!metrics) throw new Error('metricsOf: the app was not made by createServer');
  return metrics;
}

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
 *   So do the errors Fastify and Node make themselves (malformed URL or HTTP, timeouts, oversized headers).
 * - Every response carries `x-trace-id` when a span is active, and `x-served-by: <name>`.
 * - `GET /openapi.json`: the route contract, OpenAPI 3.1 from the route schemas; routes with
 *   `config: { public: true }` are marked `x-aio-public` (see {@link registerContract}).
 * - Bodies are validated without type coercion; query strings, params and headers are coerced to
 *   the types their schema declares (see `private/validator-compilers.ts`).
 * - `content-type: application/json` with an empty body is a request without a body, so bodiless
 *   operations (commit, release, capture, void) accept what many clients and proxies send.
 * - Slow or idle clients are dropped ({@link HttpLimits}).
 * - `GET /metrics`: Prometheus text from the service's {@link ServiceMetrics}, with
 *   `http_server_requests_total` and `http_server_request_duration_seconds` by route pattern,
 *   method and status (an operator endpoint, never public).
 *
 * Routes declare `schema: { body, params, querystring, headers, response }` as JSON Schema; shared
 * fragments with the platform's limits are in `request-limits.ts`.
 *
 * @see https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/
 */
export function createServer(props: ServerProps): FastifyInstance {
  const checks = props.readinessChecks ?? {};
  const timeoutMs = props.readinessTimeoutMs ?? 2000;
  const headersTimeout = props.http?.headersTimeoutMs ?? 10_000;
  const requestTimeout = props.http?.requestTimeoutMs ?? 30_000;
  if (headersTimeout > requestTimeout) {
    throw new Error(
      `HTTP_HEADERS_TIMEOUT_MS (${headersTimeout}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeout}): the headers are part of the request`,
    );
  }
  const app = Fastify({
    loggerInstance: props.logger as unknown as FastifyBaseLogger,
    bodyLimit: props.bodyLimit ?? 1_048_576,
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && header.length <= 128 ? header : randomUUID();
    },
    // Fastify's own 503 body is application/json: the onRequest hook below answers with a problem.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    requestTimeout,
    keepAliveTimeout: props.http?.keepAliveTimeoutMs ?? 72_000,
    // Node checks the two timeouts every connectionsCheckingInterval (30 s by default), so a short
    // timeout needs a shorter interval to mean what it says.
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
    },
    // Ids up to 128 characters are path parameters; longer ones get a 400 naming them, not a 414.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors,
    clientErrorHandler,
  });
  app.server.maxConnections = props.http?.maxConnections ?? 1000;
  app.setValidatorCompiler(kitValidatorCompiler());
  const state: ServerState = { draining: false };
  states.set(app, state);
  const servedBy = props.name ?? 'service';
  registerContract(app, { title: servedBy, version: props.version ?? '0.0.0' });
  const metrics = props.metrics ?? new ServiceMetrics();
  registries.set(app, metrics);
  instrumentHttp(app, metrics);
  registerMetricsRoute(app, metrics);

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // No body at all, whatever the content type says: the route's body schema decides if one is needed.
    if ((body as string).trim() === '') return done(null, undefined);
    parseJson(request, body as string, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    // Requests that arrive on a kept-alive socket after the drain started (Fastify's
    // return503OnClosing, with a problem body); the probes answer for themselves.
    const probe = request.url.startsWith('/readyz') || request.url.startsWith('/healthz');
    if (state.draining && !probe) return sendProblem(reply, 503, 'shutting down');
  });
  // after the drain check, before any route of the service is declared
  registerRouteAuth(app, props.auth, servedBy);

  // preClose runs when app.close() starts, before the listener stops.
  app.addHook('preClose', async () => {
    state.draining = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    const ctx = trace.getActiveSpan()?.spanContext();
    if (ctx && isSpanContextValid(ctx)) void reply.header('x-trace-id', ctx.traceId);
    void reply.header('x-served-by', servedBy);
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
          // The state only: an error message names hosts and ports, so it goes to the log.
          results[name] =
            error instanceof NotReadyError
              ? error.state
              : error instanceof CheckTimeout
                ? 'timeout'
                : 'failed';
          if (!(error instanceof NotReadyError))
            app.log.warn({ err: error, check: name }, 'readiness check failed');
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

class CheckTimeout extends Error {}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
