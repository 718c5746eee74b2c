import type { FastifyError, FastifyReply } from 'fastify';

/** One invalid field, as listed in a problem's `invalid-params`. */
export interface InvalidParam {
  /** The field path, e.g. `items[0].quantity`. */
  readonly name: string;
  readonly reason: string;
}

/**
 * An error that Fastify turns into an `application/problem+json` response.
 *
 * Throw it from a route handler: `throw new HttpProblem(404, 'reservation not found', { orderId })`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export class HttpProblem extends Error {
  constructor(
    /** HTTP status. */
    public readonly status: number,
    /** Human-readable explanation, used as `detail`. */
    public readonly detail: string,
    /** Extra members merged into the body. */
    public readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Sends an RFC 9457 problem document. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...extra });
}

/** Turns Fastify/ajv validation errors into `invalid-params`, naming each field (`items[0].sku`). */
export function invalidParams(error: FastifyError): InvalidParam[] {
  return (error.validation ?? []).map((v) => {
    const base = v.instancePath
      .split('/')
      .filter(Boolean)
      .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
      .join('')
      .replace(/^\./, '');
    const params = v.params as Record<string, unknown>;
    const missing = typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
    const extraProp = typeof params.additionalProperty === 'string' ? params.additionalProperty : undefined;
    const leaf = missing ?? extraProp;
    const name = leaf ? (base ? `${base}.${leaf}` : leaf) : base || (error.validationContext ?? 'body');
    const reason = missing ? 'is required' : extraProp ? 'is not allowed' : (v.message ?? 'is invalid');
    return { name, reason };
  });
}
