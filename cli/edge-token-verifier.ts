import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/** The issuer the local gateway accepts tokens from (the stack's `AUTH_*` env). */
export interface EdgeIdentity {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
}

/** Header the gateway passes with the cohort subject it routed by; it must be the verified one. */
export const CLAIMED_SUBJECT_HEADER = 'x-aio-claimed-subject';

/** A running verifier. */
export interface EdgeTokenVerifier {
  /** `127.0.0.1:<port>`, for nginx's upstream. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The local gateway's token check, what Kong's `jwt` plugin and the customer-claims check do in
 * the cluster (`charts/edge-token.ts`): nginx's `auth_request` asks it about each request to a
 * customer route; it answers 204 for a bearer token that jose verifies against the issuer's JWKS
 * (RS256/ES256 signature, `exp`/`nbf`, exact `iss`, `aud`, a `sub`), else 401. jose's remote key set
 * refetches the JWKS when a token names a `kid` it does not know, so a rotated key works at once.
 *
 * @see https://nginx.org/en/docs/http/ngx_http_auth_request_module.html
 * @see https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md
 */
export async function startEdgeTokenVerifier(identity: EdgeIdentity): Promise<EdgeTokenVerifier> {
  const keys = createRemoteJWKSet(new URL(identity.jwksUri), { cooldownDuration: 1000 });
  const server = http.createServer((req, res) => {
    void verify(req.headers.authorization, req.headers[CLAIMED_SUBJECT_HEADER]).then((status) => {
      res.writeHead(status, { 'content-length': '0' }).end();
    });
  });
  const verify = async (authorization: string | undefined, claimed: unknown): Promise<number> => {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return 401;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: identity.issuer,
        audience: identity.audience,
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof claimed === 'string' && claimed !== '' && claimed !== payload.sub) return 401;
      return 204;
    } catch {
      return 401;
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
