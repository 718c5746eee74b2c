import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../problem.js';

/**
 * Errors Node's HTTP parser raises before Fastify has a request (timeouts, oversized headers,
 * malformed HTTP), answered as problem documents on the raw socket, which is then closed.
 *
 * Fastify's default writes `application/json`; this is the same logic with an RFC 9457 body.
 *
 * @see https://nodejs.org/api/http.html#event-clienterror
 * @see https://fastify.dev/docs/latest/Reference/Server/#clienterrorhandler
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset socket is gone: nothing to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive in time; send the headers and body without pausing']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'malformed HTTP request'];
  const title = STATUS_CODES[status]!;
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Errors Fastify's router makes before a route runs (a malformed percent-encoding in the URL, an
 * over-long path parameter), as problem documents instead of Fastify's `application/json` body.
 *
 * @see https://fastify.dev/docs/latest/Reference/Server/#frameworkerrors
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const detail =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the url has a malformed percent-encoding'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a path parameter is too long'
        : error.message.toLowerCase();
  void sendProblem(reply, error.statusCode ?? 400, detail);
}
