/** Options for {@link createHttpClient}. */
export interface HttpClientProps {
  /** Base URL of the peer, e.g. `http://inventory:8080` (from a `*_URL` env variable). */
  readonly baseUrl: string;
  /** Per-request timeout. @default 2000 */
  readonly timeoutMs?: number;
  /** Headers sent on every request. @default - none */
  readonly headers?: Record<string, string>;
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the base URL, e.g. `/reservations/o-1/commit`. */
  readonly path: string;
  /** Sent as JSON. @default - no body */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Overrides the client's timeout. @default - the client's */
  readonly timeoutMs?: number;
  /** Sent as `Idempotency-Key`. @default - none */
  readonly idempotencyKey?: string;
}

/** A response of any status; non-2xx statuses are returned, not thrown. */
export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the response is JSON, else the text. */
  readonly body: T;
}

/**
 * The call did not complete: a timeout or a connection failure.
 *
 * `maybeDone` is true when the request may have reached the peer (a timeout, a reset after sending):
 * treat the operation as possibly applied, and compensate or retry idempotently.
 */
export class HttpCallError extends Error {
  constructor(
    message: string,
    public readonly kind: 'timeout' | 'network',
    public readonly maybeDone: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpCallError';
  }
}

/** A JSON HTTP client bound to one peer. */
export interface HttpClient {
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
}

/**
 * Creates a JSON client over `fetch` with a timeout on every call.
 *
 * With tracing started, the undici instrumentation makes each call a client span and adds the W3C
 * `traceparent` header, so the peer's spans join the caller's trace.
 *
 * @see https://www.w3.org/TR/trace-context/
 */
export function createHttpClient(props: HttpClientProps): HttpClient {
  const base = props.baseUrl.replace(/\/+$/, '');
  const defaultTimeout = props.timeoutMs ?? 2000;
  return {
    async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
      const timeoutMs = req.timeoutMs ?? defaultTimeout;
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...props.headers,
        ...req.headers,
      };
      if (req.body !== undefined) headers['content-type'] = 'application/json';
      if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
      const url = `${base}${req.path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method: req.method,
          headers,
          ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'TimeoutError' || name === 'AbortError') {
          throw new HttpCallError(`${req.method} ${url} timed out after ${timeoutMs} ms`, 'timeout', true, {
            cause: error,
          });
        }
        const refused = /ECONNREFUSED|ENOTFOUND/.test(String((error as { cause?: unknown }).cause ?? ''));
        throw new HttpCallError(
          `${req.method} ${url} failed: ${(error as Error).message}`,
          'network',
          !refused,
          {
            cause: error,
          },
        );
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new HttpCallError(`${req.method} ${url} timed out reading the body`, 'timeout', true, {
          cause: error,
        });
      }
      const isJson = /json/.test(response.headers.get('content-type') ?? '');
      const body = (isJson && text ? JSON.parse(text) : text) as T;
      return { status: response.status, headers: response.headers, body };
    },
  };
}
