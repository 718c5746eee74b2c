import { createHash } from 'node:crypto';
import { HttpProblem } from './problem.js';

/**
 * The one replay rule of the platform's APIs (docs/saga.md, "Idempotency contract"): a request names
 * its operation with a key (the order id for saga participants, the `Idempotency-Key` header where the
 * server picks the id); the same key with the same request gets the first outcome back, and the same
 * key with a different request gets 422 `application/problem+json`. Each service keeps the key and
 * the request's fingerprint in the row its operation writes anyway, in the same statement.
 */

/**
 * A digest of a request for the replay rule: SHA-256 of its canonical JSON (object keys sorted, so
 * the same request sent with its members in another order is the same request). An array of
 * primitives digests exactly as `JSON.stringify` of it would.
 */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** JSON with object keys sorted at every level; `undefined` members are left out, as JSON does. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The answer to a key reused with a different request: 422 problem+json naming the key, with
 * `idempotencyKey` in the body.
 *
 * @param what the key in the caller's terms, e.g. `orderId o-1` or `Idempotency-Key k-1`
 * @param key the key itself
 */
export function keyReusedProblem(what: string, key: string): HttpProblem {
  return new HttpProblem(
    422,
    `${what} was already used with a different request; send the same request to get its outcome, or use a new key`,
    { idempotencyKey: key },
  );
}
