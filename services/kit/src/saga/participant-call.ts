import { context, propagation } from '@opentelemetry/api';
import http from 'node:http';
import https from 'node:https';
import { DependencyUnavailable, dependency } from '../resilience/dependency.js';
import type { Dependency } from '../resilience/dependency.js';
import { StepFailure, classifyStatus } from './step-failure.js';

/** Options of {@link participantCall}. */
export interface ParticipantCallOptions {
  /** Absolute URL of the participant endpoint. */
  readonly url: string;
  /**
   * HTTP method.
   *
   * @default 'POST'
   */
  readonly method?: string;
  /**
   * JSON body.
   *
   * @default - no body
   */
  readonly body?: unknown;
  /**
   * The participant's name in rejection reasons, e.g. `inventory`.
   *
   * @default - the URL's host
   */
  readonly participant?: string;
  /**
   * Deadline of the whole call, in milliseconds (the dependency wrapper's timeout).
   *
   * @default 2000
   */
  readonly timeoutMs?: number;
  /**
   * The callee's resilience wrapper, for a caller with its own settings (the catalog's tight deadline
   * and fallback for review).
   *
   * @default - the participant's, from {@link dependency}, with the saga's settings
   */
  readonly dependency?: Dependency;
}

/**
 * The wrapper settings of saga participants. The breaker opens after 5 transient failures in a row
 * and lets one trial through after 1 s, below the engine's 2 s backoff cap, so a participant that is
 * back is called again by the next retry; while it is open, a retry fails at once, without a socket.
 */
const PARTICIPANT_BREAKER = { failureThreshold: 5, halfOpenAfterMs: 1000, maxConcurrent: 256 } as const;

/** Only transient failures count against a participant: a 4xx is a business answer, the callee working. */
function transient(err: unknown): boolean {
  return err instanceof StepFailure && err.kind !== 'REJECTED';
}

/** A participant's successful reply. */
export interface ParticipantReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * The one HTTP client of the kit: calls a saga participant with the W3C trace context (`traceparent`,
 * `tracestate`) of the active span over a keep-alive agent, and classifies the outcome:
 * 2xx returns the reply; 408, 429 and 5xx throw a `RETRYABLE` {@link StepFailure}; other 4xx throw a
 * `REJECTED` one carrying the participant's reason (see {@link rejectionReason}); network errors are
 * `RETRYABLE` and no reply in time is a `TIMEOUT`.
 *
 * The call goes through the participant's {@link dependency} wrapper (deadline, bulkhead, breaker):
 * an open circuit or a full bulkhead is a `RETRYABLE` failure thrown before any request, so the saga
 * engine stays the one retry layer and paces it with its backoff; the wrapper itself never retries.
 *
 * It sends no `Idempotency-Key`: participants are idempotent by the resource key the request names
 * (the order id in the path or body), the contract in docs/saga.md.
 *
 * A request with an idempotent method that fails on a reused keep-alive connection before any
 * response byte (the callee restarted and the pooled socket was stale) is sent once more, on a new
 * connection, within the same deadline: see {@link replaysAfterStaleConnection}.
 *
 * @see https://www.w3.org/TR/trace-context/
 */
export async function participantCall(options: ParticipantCallOptions): Promise<ParticipantReply> {
  const url = new URL(options.url);
  const what = `${options.method ?? 'POST'} ${url.pathname}`;
  const timeoutMs = options.timeoutMs ?? 2000;
  const dep =
    options.dependency ??
    dependency({
      name: options.participant ?? url.host,
      origin: url.origin,
      timeoutMs,
      countsAsFailure: transient,
      ...PARTICIPANT_BREAKER,
    });
  try {
    return await dep.call((signal) => send(url, what, options, signal), timeoutMs);
  } catch (err) {
    if (!(err instanceof DependencyUnavailable)) throw err;
    if (err.reason === 'timeout') throw StepFailure.timeout(`${what} got no reply within ${timeoutMs} ms`);
    throw StepFailure.retryable(`${what}: ${err.message}`);
  }
}

/**
 * Methods whose request may be sent again after a stale connection: the idempotent ones of
 * RFC 9110 §9.2.2 (the safe GET, HEAD, OPTIONS and TRACE, and PUT and DELETE). The kit's PUTs set a
 * resource to the body's state (a repeated one is `unchanged`: no new version, no event) and its
 * DELETEs name their resource. POST and PATCH are never replayed: their retry layer is the caller's
 * (the saga engine, which counts its attempts).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
 */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Socket errors of a peer that closed or reset the connection ("socket hang up" is ECONNRESET). */
const CONNECTION_LOST: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Whether a failed request is sent again, once, on a new connection: its method is idempotent
 * ({@link IDEMPOTENT_METHODS}), it went out on a socket the agent reused (`request.reusedSocket`),
 * the connection was lost (`ECONNRESET`, `EPIPE`) before the callee sent a single byte of a
 * response, and it is the first send. That is a pooled socket whose peer went away as the request
 * went out (a callee replaced or killed between its last answer and this request's arrival, or its
 * idle close crossing the request), while the new callee is up: Node's documented case for
 * `reusedSocket`. (A socket whose FIN had already arrived is not one: Node's agent destroys a free
 * socket with a pending read before reusing it.) The body is the serialized JSON string, never a
 * stream, so it can be sent again.
 *
 * It is not a second retry layer: on a fresh connection, or after any response byte, nothing is
 * replayed, and the dependency wrapper and the saga engine see one call with one outcome. In the
 * cluster the app's connections end at its own Envoy sidecar, which does not close when the callee
 * restarts and answers a reset upstream with its `reset` retry or a 503, so this fires only where
 * no mesh is (the local stack, `aio dev`); the budget gate's count (app attempts × mesh tries) holds
 * (docs/decisions.md, "A stale keep-alive connection is replayed once").
 *
 * @see https://nodejs.org/api/http.html#requestreusedsocket
 */
export function replaysAfterStaleConnection(failure: {
  readonly method: string;
  readonly reusedSocket: boolean;
  readonly code: string | undefined;
  readonly responseBytes: number;
  /** 1 for the first send of the call, 2 for its replay. */
  readonly nth: number;
}): boolean {
  return (
    failure.nth === 1 &&
    failure.reusedSocket &&
    failure.responseBytes === 0 &&
    failure.code !== undefined &&
    CONNECTION_LOST.has(failure.code) &&
    IDEMPOTENT_METHODS.has(failure.method.toUpperCase())
  );
}

/**
 * One call and its classified outcome: a request, and once more on a new connection when
 * {@link replaysAfterStaleConnection} says so. Aborting `signal` destroys the socket.
 */
async function send(
  url: URL,
  what: string,
  options: ParticipantCallOptions,
  signal: AbortSignal,
): Promise<ParticipantReply> {
  try {
    return await sendOnce(url, what, options, signal, 1);
  } catch (err) {
    if (!(err instanceof StaleConnection)) throw err;
    if (signal.aborted) throw err.failure;
    return sendOnce(url, what, options, signal, 2);
  }
}

/** A first send lost on a reused connection before any response byte; `failure` is what the caller sees without a replay. */
class StaleConnection extends Error {
  constructor(public readonly failure: StepFailure) {
    super(failure.message);
    this.name = 'StaleConnection';
  }
}

/** One request; the `nth` 2 goes on a connection of its own (no agent), so it cannot meet another stale one. */
function sendOnce(
  url: URL,
  what: string,
  options: ParticipantCallOptions,
  signal: AbortSignal,
  nth: number,
): Promise<ParticipantReply> {
  const method = options.method ?? 'POST';
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  propagation.inject(context.active(), headers);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = nth > 1 ? false : url.protocol === 'https:' ? httpsAgent : httpAgent;
  return new Promise<ParticipantReply>((resolve, reject) => {
    // bytes the socket had read before this request: more at the error means a response had begun
    let readBefore: number | undefined;
    const req = lib.request(url, { method, headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(StepFailure.retryable(`${what}: ${err.message}`)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let body: Record<string, unknown> = {};
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
        const kind = classifyStatus(status);
        if (kind === 'OK') resolve({ status, body });
        else if (kind === 'RETRYABLE') reject(StepFailure.retryable(`${what} answered ${status}`, status));
        else {
          const reason = rejectionReason(options.participant ?? url.host, status, body);
          reject(new StepFailure('REJECTED', `${what} answered ${status} ${reason}`, reason, status));
        }
      });
    });
    req.on('socket', (socket) => (readBefore = socket.bytesRead));
    // after an abort (the deadline) the wrapper has already answered: this rejection goes unheard
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failure = StepFailure.retryable(`${what}: ${err.message}`);
      const stale =
        readBefore !== undefined &&
        replaysAfterStaleConnection({
          method,
          reusedSocket: req.reusedSocket,
          code: err.code,
          responseBytes: (req.socket?.bytesRead ?? readBefore) - readBefore,
          nth,
        });
      reject(stale ? new StaleConnection(failure) : failure);
    });
    req.end(payload);
  });
}

/** Longest rejection reason kept: it ends up in a business row (the order's `rejectionReason`). */
const MAX_REASON_LENGTH = 300;

/**
 * The reason of a participant's 4xx answer: its `reason` code (`INSUFFICIENT_STOCK`), else its
 * string `status` (`RELEASED`), else, for an RFC 9457 problem, `<participant> answered <status>:
 * <detail>` (or the title, or the `invalid-params` names and reasons), so a refused request names
 * what was wrong instead of an opaque `HTTP_400`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export function rejectionReason(participant: string, status: number, body: Record<string, unknown>): string {
  if (typeof body.reason === 'string' && body.reason) return body.reason.slice(0, MAX_REASON_LENGTH);
  if (typeof body.status === 'string' && body.status) return body.status.slice(0, MAX_REASON_LENGTH);
  const params = Array.isArray(body['invalid-params'])
    ? (body['invalid-params'] as { name?: unknown; reason?: unknown }[])
        .map((p) => `${String(p.name)}: ${String(p.reason)}`)
        .join('; ')
    : '';
  const what =
    (typeof body.detail === 'string' && body.detail) ||
    params ||
    (typeof body.title === 'string' && body.title) ||
    'no reason given';
  return `${participant} answered ${status}: ${what}`.slice(0, MAX_REASON_LENGTH);
}
