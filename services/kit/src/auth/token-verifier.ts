import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, FlattenedJWSInput, JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../config.js';
import type { AuthConfig } from './auth-config.js';
import type { Principal } from './principal.js';

/**
 * The signature algorithms a customer token may use. Asymmetric only: `none` and the HMAC family
 * (HS256...) are refused before any key is looked up, so a token can never pick a shared secret or
 * no signature at all.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export const TOKEN_ALGORITHMS = ['RS256', 'ES256'] as const;

/** A customer id as the order API accepts one: printable ASCII without spaces, 1–128. */
const SUBJECT = /^[!-~]{1,128}$/;

/** Why a token was refused: `missing` (no credentials) or `invalid` (RFC 6750 `invalid_token`). */
export class TokenRejected extends Error {
  constructor(
    public readonly reason: 'missing' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'TokenRejected';
  }
}

/** The issuer's keys could not be read (down, timed out, not a JWKS): the request answers 503. */
export class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super(`the token issuer's keys could not be read: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'KeysUnavailable';
  }
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierProps {
  /** Expected `iss`. */
  readonly issuer: string;
  /** Expected `aud` (one of the token's audiences). */
  readonly audience: string;
  /** @default - `<issuer>/.well-known/jwks.json` */
  readonly jwksUri?: string;
  /** @default 5 */
  readonly clockToleranceSeconds?: number;
  /** @default 30000 */
  readonly cooldownMs?: number;
  /** @default 2000 */
  readonly timeoutMs?: number;
  /** How long a fetched key set is used before it is read again (jose's `cacheMaxAge`). @default 600000 */
  readonly jwksMaxAgeMs?: number;
  /**
   * Tokens whose verification is remembered (least recently used first out); 0 turns it off.
   * See {@link TokenVerifier.verify}. @default 10000
   */
  readonly verifiedCacheSize?: number;
  /** The longest a verification is reused, whatever the token's `exp`. @default 60000 */
  readonly verifiedTtlMs?: number;
}

/** A verification kept for reuse: the principal, until when it may stand in for a new check. */
interface Verified {
  readonly principal: Principal;
  readonly until: number;
}

/**
 * Verifies customer JWTs with jose against the issuer's remote JWKS: signature (RS256/ES256 only),
 * `iss`, `aud`, `exp` (required) and `nbf` with a small clock tolerance, and a `sub` that is a valid
 * customer id.
 *
 * The key set is jose's `createRemoteJWKSet`: fetched on first use, kept for `jwksMaxAgeMs` (jose's
 * `cacheMaxAge`, 10 min by default; then the next request reads it again),
 * and refetched once when a token names a `kid` it does not have (key rotation) unless the last
 * fetch was less than `cooldownMs` ago. Concurrent misses share one fetch.
 *
 * @see https://github.com/panva/jose/blob/main/docs/jwks/remote/functions/createRemoteJWKSet.md
 * @see https://github.com/panva/jose/blob/main/docs/jwt/verify/functions/jwtVerify.md
 */
export class TokenVerifier {
  public readonly issuer: string;
  public readonly audience: string;
  public readonly jwksUri: string;
  private readonly clockTolerance: number;
  private readonly keys: JWTVerifyGetKey;
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly verified = new Map<string, Verified>();
  private readonly verifiedCacheSize: number;
  private readonly verifiedTtlMs: number;

  /**
   * The verifier a config asks for, or `undefined` when it names no issuer.
   *
   * @throws ConfigError when only one of `AUTH_ISSUER` and `AUTH_AUDIENCE` is set
   */
  public static fromConfig(config: AuthConfig): TokenVerifier | undefined {
    if (!config.AUTH_ISSUER && !config.AUTH_AUDIENCE && !config.AUTH_JWKS_URI) return undefined;
    const missing = (['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((k) => !config[k]);
    if (missing.length) {
      throw new ConfigError(
        missing.map((name) => ({
          name,
          message: 'is required when any AUTH_* variable is set (the issuer and the audience go together)',
        })),
      );
    }
    return new TokenVerifier({
      issuer: config.AUTH_ISSUER!,
      audience: config.AUTH_AUDIENCE!,
      ...(config.AUTH_JWKS_URI ? { jwksUri: config.AUTH_JWKS_URI } : {}),
      ...(config.AUTH_CLOCK_TOLERANCE_SECONDS !== undefined
        ? { clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS }
        : {}),
      ...(config.AUTH_JWKS_COOLDOWN_MS !== undefined ? { cooldownMs: config.AUTH_JWKS_COOLDOWN_MS } : {}),
      ...(config.AUTH_JWKS_TIMEOUT_MS !== undefined ? { timeoutMs: config.AUTH_JWKS_TIMEOUT_MS } : {}),
      ...(config.AUTH_JWKS_MAX_AGE_MS !== undefined ? { jwksMaxAgeMs: config.AUTH_JWKS_MAX_AGE_MS } : {}),
      ...(config.AUTH_VERIFIED_CACHE_SIZE !== undefined
        ? { verifiedCacheSize: config.AUTH_VERIFIED_CACHE_SIZE }
        : {}),
    });
  }

  constructor(props: TokenVerifierProps) {
    this.issuer = props.issuer;
    this.audience = props.audience;
    this.jwksUri = props.jwksUri ?? `${props.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
    this.clockTolerance = props.clockToleranceSeconds ?? 5;
    this.verifiedCacheSize = props.verifiedCacheSize ?? 10_000;
    this.verifiedTtlMs = props.verifiedTtlMs ?? 60_000;
    const remote = (this.remote = createRemoteJWKSet(new URL(this.jwksUri), {
      cooldownDuration: props.cooldownMs ?? 30_000,
      timeoutDuration: props.timeoutMs ?? 2000,
      cacheMaxAge: props.jwksMaxAgeMs ?? 600_000,
    }));
    // A key that is not in the set is the token's fault (401); a set that cannot be read is the
    // issuer's (503): the two must never be confused, and neither is a 500.
    this.keys = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
          throw err;
        throw new KeysUnavailable(err);
      }
    };
  }

  /**
   * Fetches the key set now, so the first customer request does not wait for it. A failure is
   * returned, not thrown: the service starts anyway, and requests answer 503 until the set is read.
   */
  public async warm(): Promise<Error | undefined> {
    try {
      await this.remote.reload();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /**
   * The principal of a valid token.
   *
   * A token that verified is remembered, keyed by its exact text, until the earlier of its `exp` and
   * `verifiedTtlMs` (60 s): a customer sends the same token on every request, and an RS256 check
   * costs far more CPU than a map lookup (`npm run bench:auth`). Only successes are kept, the text
   * must match byte for byte (another signature is another key), and an expired token is never
   * served from memory (the entry ends at `exp`, before the clock tolerance). The cost: a key
   * withdrawn from the JWKS stops a token it signed that was verified here up to `verifiedTtlMs`
   * after this verifier reads the set without it (docs/security.md, "Key rotation").
   *
   * @throws TokenRejected (`invalid`) for a token that is malformed, badly signed, expired, not yet
   *   valid, from another issuer or for another audience, or without a usable `sub`
   * @throws KeysUnavailable when the issuer's key set cannot be read
   */
  public async verify(token: string): Promise<Principal> {
    const now = Date.now();
    const known = this.verified.get(token);
    if (known) {
      this.verified.delete(token);
      if (now < known.until) {
        this.verified.set(token, known); // most recently used last
        return known.principal;
      }
    }
    const principal = await this.check(token);
    if (this.verifiedCacheSize > 0) {
      this.verified.set(token, {
        principal,
        until: Math.min(principal.expiresAt * 1000, now + this.verifiedTtlMs),
      });
      if (this.verified.size > this.verifiedCacheSize) {
        this.verified.delete(this.verified.keys().next().value!);
      }
    }
    return principal;
  }

  /** The full check of {@link verify}: signature, claims and subject. */
  private async check(token: string): Promise<Principal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: [...TOKEN_ALGORITHMS],
        clockTolerance: this.clockTolerance,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof KeysUnavailable) throw err;
      throw new TokenRejected('invalid', rejection(err));
    }
    if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub)) {
      throw new TokenRejected('invalid', 'the token subject (sub) is not a customer id');
    }
    return { customerId: payload.sub, issuer: this.issuer, expiresAt: payload.exp! };
  }
}

/** What the client is told about a refused token: the kind of failure, never the expected values. */
function rejection(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (err.claim === 'iss') return 'the token was issued by another issuer';
    if (err.claim === 'aud') return 'the token is for another audience';
    return `the token's ${err.claim} claim is invalid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return `the token's algorithm is not accepted; use one of ${TOKEN_ALGORITHMS.join(', ')}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return "the token's key (kid) is not one of the issuer's keys";
  return 'the token is malformed';
}
