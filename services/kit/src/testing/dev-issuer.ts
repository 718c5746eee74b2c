import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { ISSUER_ALG as ALG, IssuerKeySet, newIssuerKey, type IssuerKey } from './issuer-keys.js';

/** The audience of the development issuer's tokens, and the `AUTH_AUDIENCE` the local stack gives services. */
export const DEV_TOKEN_AUDIENCE = 'aio-platform';

/** A customer id the issuer accepts as a subject (the order API's customer id). */
const CUSTOMER = /^[!-~]{1,128}$/;

/** What `POST /tokens` accepts; everything but `customer` is for tests of refused tokens. */
export interface TokenRequest {
  /** The token's subject. */
  readonly customer: string;
  /** @default 3600; negative gives a token that already expired */
  readonly expiresInSeconds?: number;
  /** `nbf` this many seconds from now. @default - no nbf */
  readonly notBeforeInSeconds?: number;
  /** @default {@link DEV_TOKEN_AUDIENCE} */
  readonly audience?: string;
  /** @default - the issuer's own URL */
  readonly issuer?: string;
  /** Sign with a key that is not in the JWKS, under the published `kid` (a forged signature). @default false */
  readonly forge?: boolean;
  /** Sign with a key that is not in the JWKS, under a random `kid` nobody published. @default false */
  readonly unknownKid?: boolean;
}

/** What `GET /keys` answers: the published keys, the signing one, and how often the JWKS was read. */
export interface IssuerKeysStatus {
  readonly signing: string;
  readonly keys: readonly { readonly kid: string; readonly createdAt: string; readonly validUntil: number }[];
  readonly jwksRequests: number;
}

/** Options of {@link DevTokenIssuer.start}. */
export interface DevTokenIssuerProps {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /**
   * Where the key set is kept (private keys: mode 0600, outside any build output) and reloaded from
   * at start, so that a restart keeps every key and the tokens they signed.
   *
   * @default - keys only in this process: a restart invalidates every token
   */
  readonly keysFile?: string;
}

/**
 * A development OIDC issuer: RS256 keys (generated at start, or reloaded from `keysFile`), the
 * discovery document and the JWKS, and tokens for any customer on request. It is what `aio dev` and
 * the tests run in place of the company's issuer; nothing but the local stack may trust it.
 *
 * - `GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json`
 * - `POST /tokens` with a {@link TokenRequest}: `{ token }`
 * - key rotation, as an identity provider does it (docs/security.md, "Key rotation"):
 *   `POST /keys` publishes a new key in the JWKS (201 `{ kid }`) without signing with it;
 *   `POST /keys/rotate` with `{ "kid": "<published kid>" }` signs with it from now on, without a body
 *   with a new key published at that moment (`{ kid, previous }`; the previous key stays published,
 *   its tokens stay valid); `DELETE /keys/<kid>` withdraws a key from the JWKS, refused (409) for the
 *   signing key and, unless `?force=true`, while a token it signed may still be valid;
 *   `GET /keys` lists them ({@link IssuerKeysStatus})
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
 */
export class DevTokenIssuer {
  /** The issuer URL (`iss`), e.g. `http://127.0.0.1:8091`. */
  public readonly url: string;
  /** Where the JWKS is served. */
  public readonly jwksUri: string;
  /** How often the JWKS was fetched (tests of the verifiers' cache). */
  public jwksRequests = 0;

  public static async start(props: DevTokenIssuerProps = {}): Promise<DevTokenIssuer> {
    // keys first, the handler before listen: a request accepted before it would never be answered
    const [keys, rogue] = await Promise.all([IssuerKeySet.open(props.keysFile), newIssuerKey()]);
    const server = http.createServer();
    const host = props.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve) => {
      server.listen(props.port ?? 0, host, () => resolve((server.address() as AddressInfo).port));
      // the handler is in place before the first connection can be read
      server.on('request', (req, res) => void issuer.handle(req, res));
    });
    const issuer = new DevTokenIssuer(server, `http://127.0.0.1:${port}`, keys, rogue);
    return issuer;
  }

  private constructor(
    private readonly server: http.Server,
    url: string,
    private readonly keys: IssuerKeySet,
    private readonly rogue: IssuerKey,
  ) {
    this.url = url;
    this.jwksUri = `${url}/.well-known/jwks.json`;
  }

  /** Signs a token (see {@link TokenRequest}). */
  public async issue(request: TokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const current = this.keys.signing;
    const exp = now + (request.expiresInSeconds ?? 3600);
    const kid = request.unknownKid ? randomUUID() : current.kid;
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
      .setSubject(request.customer)
      .setIssuer(request.issuer ?? this.url)
      .setAudience(request.audience ?? DEV_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(exp);
    if (request.notBeforeInSeconds !== undefined) jwt.setNotBefore(now + request.notBeforeInSeconds);
    if (request.forge || request.unknownKid) return jwt.sign(this.rogue.privateKey);
    this.keys.signed(exp);
    return jwt.sign(current.privateKey);
  }

  /** Publishes a new key without signing with it yet (the first step of a rotation); its `kid`. */
  public publish(): Promise<string> {
    return this.keys.publish();
  }

  /**
   * Signs from now on with `kid` (published before), or with a new key published at this moment;
   * the previous keys stay published. Returns the signing `kid`.
   */
  public async rotate(kid?: string): Promise<string> {
    return (await this.keys.sign(kid)).kid;
  }

  /** The published keys and the signing one. */
  public status(): IssuerKeysStatus {
    return {
      signing: this.keys.signing.kid,
      keys: this.keys.published.map((k) => ({
        kid: k.kid,
        createdAt: k.createdAt,
        validUntil: k.validUntil,
      })),
      jwksRequests: this.jwksRequests,
    };
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const json = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    const problem = (status: number, detail: string) =>
      json(status, { type: 'about:blank', status, detail }, 'application/problem+json');
    try {
      if (req.method === 'GET' && path === '/healthz') return json(200, { status: 'ok' });
      if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
        return json(200, {
          issuer: this.url,
          jwks_uri: this.jwksUri,
          token_endpoint: `${this.url}/tokens`,
          response_types_supported: ['token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: [ALG],
        });
      }
      if (req.method === 'GET' && path === '/.well-known/jwks.json') {
        this.jwksRequests++;
        return json(200, { keys: this.keys.published.map((k) => k.publicJwk) });
      }
      if (req.method === 'GET' && path === '/keys') return json(200, this.status());
      if (req.method === 'POST' && path === '/keys') return json(201, { kid: await this.publish() });
      if (req.method === 'POST' && path === '/keys/rotate') {
        const body = await readOptionalJson(req);
        const kid = (body as { kid?: unknown } | undefined)?.kid;
        const extra = body && Object.keys(body).find((k) => k !== 'kid');
        if (extra) return problem(400, `${extra}: is not allowed; send {} or {"kid":"<a published kid>"}`);
        if (kid !== undefined && typeof kid !== 'string') return problem(400, 'kid: must be a string');
        if (kid !== undefined && !this.keys.published.some((k) => k.kid === kid))
          return problem(409, `kid: ${kid} is not published; publish a key first (POST /keys)`);
        return json(200, await this.keys.sign(kid));
      }
      const retiring = /^\/keys\/([^/]+)$/.exec(path);
      if (req.method === 'DELETE' && retiring) {
        const kid = decodeURIComponent(retiring[1]!);
        const refused = this.keys.retire(kid, new URLSearchParams(query).get('force') === 'true');
        return refused ? problem(refused.status, refused.detail) : json(200, { kid, retired: true });
      }
      if (req.method === 'POST' && path === '/tokens') {
        const body = await readJson(req);
        const error = tokenRequestError(body);
        if (error) return problem(400, error);
        return json(200, { token: await this.issue(body as TokenRequest) });
      }
      return problem(404, `no route for ${req.method} ${path}`);
    } catch (err) {
      return problem(400, (err as Error).message);
    }
  }
}

/** The body as JSON, or undefined when there is none. */
async function readOptionalJson(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const body = await readJson(req, true);
  if (body === undefined) return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new Error('body: must be a JSON object');
  return body as Record<string, unknown>;
}

async function readJson(req: http.IncomingMessage, optional = false): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) throw new Error('body: larger than 10000 bytes');
  }
  if (optional && text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body: must be a JSON object such as {"customer":"alice"}');
  }
}

function tokenRequestError(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body: must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.customer !== 'string' || !CUSTOMER.test(b.customer))
    return 'customer: must be 1-128 printable characters without spaces';
  for (const k of ['expiresInSeconds', 'notBeforeInSeconds'] as const)
    if (b[k] !== undefined && !Number.isInteger(b[k])) return `${k}: must be an integer`;
  for (const k of ['audience', 'issuer'] as const)
    if (b[k] !== undefined && (typeof b[k] !== 'string' || b[k] === ''))
      return `${k}: must be a non-empty string`;
  for (const k of ['forge', 'unknownKid'] as const)
    if (b[k] !== undefined && typeof b[k] !== 'boolean') return `${k}: must be a boolean`;
  const known = [
    'customer',
    'expiresInSeconds',
    'notBeforeInSeconds',
    'audience',
    'issuer',
    'forge',
    'unknownKid',
  ];
  const extra = Object.keys(b).find((k) => !known.includes(k));
  return extra ? `${extra}: is not allowed` : undefined;
}
