import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

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
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const ALG = 'RS256';

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { modulusLength: 2048 });
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' } };
}

/** Options of {@link DevTokenIssuer.start}. */
export interface DevTokenIssuerProps {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
}

/**
 * A development OIDC issuer: an RS256 key pair generated at start (never written anywhere), the
 * discovery document and the JWKS, and tokens for any customer on request. It is what `aio dev` and
 * the tests run in place of the company's issuer; nothing but the local stack may trust it.
 *
 * - `GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json`
 * - `POST /tokens` with a {@link TokenRequest}: `{ token }`
 * - `POST /keys/rotate`: a new signing key; the old one stays in the JWKS (its tokens stay valid)
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
    const [key, rogue] = await Promise.all([newKey(), newKey()]);
    const server = http.createServer();
    const host = props.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve) => {
      server.listen(props.port ?? 0, host, () => resolve((server.address() as AddressInfo).port));
      // the handler is in place before the first connection can be read
      server.on('request', (req, res) => void issuer.handle(req, res));
    });
    const issuer = new DevTokenIssuer(server, `http://127.0.0.1:${port}`, [key], rogue);
    return issuer;
  }

  private constructor(
    private readonly server: http.Server,
    url: string,
    private readonly keys: SigningKey[],
    private readonly rogue: SigningKey,
  ) {
    this.url = url;
    this.jwksUri = `${url}/.well-known/jwks.json`;
  }

  /** Signs a token (see {@link TokenRequest}). */
  public async issue(request: TokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const current = this.keys[this.keys.length - 1]!;
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: ALG, kid: current.kid, typ: 'JWT' })
      .setSubject(request.customer)
      .setIssuer(request.issuer ?? this.url)
      .setAudience(request.audience ?? DEV_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + (request.expiresInSeconds ?? 3600));
    if (request.notBeforeInSeconds !== undefined) jwt.setNotBefore(now + request.notBeforeInSeconds);
    return jwt.sign(request.forge ? this.rogue.privateKey : current.privateKey);
  }

  /** A new signing key (the previous ones stay published), and its `kid`. */
  public async rotate(): Promise<string> {
    const key = await newKey();
    this.keys.push(key);
    return key.kid;
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
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
        return json(200, { keys: this.keys.map((k) => k.publicJwk) });
      }
      if (req.method === 'POST' && path === '/keys/rotate') return json(200, { kid: await this.rotate() });
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

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) throw new Error('body: larger than 10000 bytes');
  }
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
  if (b.forge !== undefined && typeof b.forge !== 'boolean') return 'forge: must be a boolean';
  const known = ['customer', 'expiresInSeconds', 'notBeforeInSeconds', 'audience', 'issuer', 'forge'];
  const extra = Object.keys(b).find((k) => !known.includes(k));
  return extra ? `${extra}: is not allowed` : undefined;
}

/**
 * Tokens from a running {@link DevTokenIssuer} over HTTP, for tests, benchmarks and `aio dev token`:
 * valid ones (cached per customer until a minute before they expire) and each kind the services
 * must refuse.
 */
export class IssuerTokens {
  private readonly cache = new Map<string, { token: string; until: number }>();

  constructor(
    /** The issuer's URL. */
    public readonly issuerUrl: string,
  ) {}

  /** A valid token for `customer`. */
  public async for(customer: string): Promise<string> {
    const hit = this.cache.get(customer);
    if (hit && hit.until > Date.now()) return hit.token;
    const token = await this.request({ customer });
    this.cache.set(customer, { token, until: Date.now() + 3_540_000 });
    return token;
  }

  /** `{ authorization: 'Bearer <a valid token for customer>' }`. */
  public async headers(customer: string): Promise<{ authorization: string }> {
    return { authorization: `Bearer ${await this.for(customer)}` };
  }

  /** A token that expired a minute ago (beyond any clock tolerance). */
  public expired(customer: string): Promise<string> {
    return this.request({ customer, expiresInSeconds: -60 });
  }

  /** A token valid only from ten minutes on (`nbf`). */
  public notYetValid(customer: string): Promise<string> {
    return this.request({ customer, notBeforeInSeconds: 600 });
  }

  /** A token for another audience. */
  public wrongAudience(customer: string): Promise<string> {
    return this.request({ customer, audience: 'another-api' });
  }

  /** A token naming another issuer (signed with the right key). */
  public wrongIssuer(customer: string): Promise<string> {
    return this.request({ customer, issuer: 'https://issuer.invalid' });
  }

  /** A token signed with a key that is not the issuer's, under the issuer's `kid`. */
  public wrongSignature(customer: string): Promise<string> {
    return this.request({ customer, forge: true });
  }

  /** Any token the issuer mints. */
  public async request(request: TokenRequest): Promise<string> {
    const res = await fetch(`${this.issuerUrl}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const body = (await res.json()) as { token?: string; detail?: string };
    if (!res.ok || !body.token) throw new Error(`token issuer: ${res.status} ${body.detail ?? ''}`.trim());
    return body.token;
  }
}
