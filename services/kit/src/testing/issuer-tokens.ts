import type { IssuerKeysStatus, TokenRequest } from './dev-issuer.js';

/**
 * Tokens from a running `DevTokenIssuer` (dev-issuer.ts) over HTTP, for tests, benchmarks and `aio dev token`:
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

  /** A token under a random `kid` the issuer never published (each one makes a verifier look again). */
  public unknownKey(customer: string): Promise<string> {
    return this.request({ customer, unknownKid: true });
  }

  /** The issuer's published keys, the signing one and its JWKS reads (`GET /keys`). */
  public keys(): Promise<IssuerKeysStatus> {
    return this.operate('GET', '/keys');
  }

  /** Publishes a new key without signing with it (`POST /keys`); its `kid`. */
  public async publishKey(): Promise<string> {
    return (await this.operate<{ kid: string }>('POST', '/keys')).kid;
  }

  /**
   * Signs with `kid` (published before), or with a new key, from now on (`POST /keys/rotate`); the
   * tokens remembered by {@link for} are dropped, so the next ones carry the new `kid`.
   */
  public async rotate(kid?: string): Promise<{ kid: string; previous: string }> {
    this.cache.clear();
    return this.operate('POST', '/keys/rotate', kid === undefined ? {} : { kid });
  }

  /** Withdraws `kid` from the JWKS (`DELETE /keys/<kid>`); `force` even while its tokens may be valid. */
  public async retire(kid: string, options: { force?: boolean } = {}): Promise<void> {
    this.cache.clear();
    await this.operate('DELETE', `/keys/${encodeURIComponent(kid)}${options.force ? '?force=true' : ''}`);
  }

  private async operate<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.issuerUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const answer = (await res.json()) as T & { detail?: string };
    if (!res.ok)
      throw new Error(`token issuer: ${method} ${path}: ${res.status} ${answer.detail ?? ''}`.trim());
    return answer;
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
