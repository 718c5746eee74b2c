import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { claimedSubject, cohortBucket, SUBJECT_CUSTOMER_PREFIX } from '../charts/edge-cohort.js';
import { AUTH_ROUTE_HEADER, SUBJECT_COHORT_HEADER } from '../charts/nginx-gateway.js';

/** The issuer the local gateway accepts tokens from (the stack's `AUTH_*` env). */
export interface EdgeIdentity {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
}

/** A running verifier. */
export interface EdgeTokenVerifier {
  /** `127.0.0.1:<port>`, for nginx's upstream. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The local gateway's token check and token cohort, what Kong's cohort function, `jwt` plugin and
 * customer-claims check do in the cluster (`charts/edge-cohort.ts`, `charts/edge-token.ts`). nginx's
 * `auth_request` asks it about every request that carries an `Authorization` header and every
 * request to a customer route, saying which in {@link AUTH_ROUTE_HEADER}:
 *
 * - a customer route (`1`): 204 for a bearer token that jose verifies against the issuer's JWKS
 *   (RS256/ES256 signature, `exp`/`nbf`, exact `iss`, `aud`, a `sub`) whose subject is the one the
 *   cohort is computed from, else 401;
 * - a public route (`0`): always 204, the token unverified, as Kong routes it before any check.
 *
 * A 204 names the token subject's bucket in {@link SUBJECT_COHORT_HEADER}: {@link cohortBucket} of
 * `sub:<sub>`, Kong's function, so nginx routes the customer as Kong does, on every device. Without
 * a readable `sub` the header is absent and nginx falls back to the cookie. jose's remote key set
 * refetches the JWKS when a token names a `kid` it does not know, so a rotated key works at once.
 *
 * A JWKS that cannot be read (issuer down, jose's 5 s fetch timeout) is a 401 here, not a 503:
 * Kong verifies against the keys its sync job last copied into credentials and answers 401 for a
 * token whose key it has none of, so the local edge fails closed the same way. nginx would also
 * turn any auth_request answer but 2xx, 401 and 403 into a 500. The 1 s cooldown keeps a local
 * rotation instant; a flood of unknown `kid`s costs one read of the dev issuer per second.
 *
 * @see https://nginx.org/en/docs/http/ngx_http_auth_request_module.html#auth_request_set
 * @see https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md
 */
export async function startEdgeTokenVerifier(identity: EdgeIdentity): Promise<EdgeTokenVerifier> {
  const keys = createRemoteJWKSet(new URL(identity.jwksUri), { cooldownDuration: 1000 });
  const server = http.createServer((req, res) => {
    const authorization = req.headers.authorization;
    const subject = claimedSubject(authorization);
    const required = req.headers[AUTH_ROUTE_HEADER] === '1';
    void (required ? verify(authorization, subject) : Promise.resolve(true)).then((ok) => {
      const cohort =
        ok && subject !== undefined
          ? { [SUBJECT_COHORT_HEADER]: String(cohortBucket(SUBJECT_CUSTOMER_PREFIX + subject)) }
          : {};
      res.writeHead(ok ? 204 : 401, { 'content-length': '0', ...cohort }).end();
    });
  });
  const verify = async (authorization: string | undefined, claimed: string | undefined): Promise<boolean> => {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(authorization ?? '')?.[1];
    if (!token || claimed === undefined) return false;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: identity.issuer,
        audience: identity.audience,
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['sub', 'exp'],
      });
      // the customer-claims check: the request was routed by this subject
      return payload.sub === claimed;
    } catch {
      return false;
    }
  };
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The stack's issuer from `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_JWKS_URI` (the kit's names). */
export function edgeIdentityFromEnv(env: NodeJS.ProcessEnv): EdgeIdentity | undefined {
  if (!env.AUTH_ISSUER || !env.AUTH_AUDIENCE) return undefined;
  return {
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    jwksUri: env.AUTH_JWKS_URI ?? `${env.AUTH_ISSUER.replace(/\/+$/, '')}/.well-known/jwks.json`,
  };
}
