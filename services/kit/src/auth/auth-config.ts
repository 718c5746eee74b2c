import { z } from 'zod';

/**
 * The env of the kit's token check, part of every service's config schema. `AUTH_ISSUER` and
 * `AUTH_AUDIENCE` come together; a service with a customer route refuses to start without them
 * (docs/decisions.md, "Customer tokens in the kit").
 */
export const authConfigShape = {
  /** The OIDC issuer whose tokens customers carry (`iss`), e.g. a Cognito user pool's URL. @default - none */
  AUTH_ISSUER: z.url().optional(),
  /** The audience (`aud`) every customer token must name. @default - none */
  AUTH_AUDIENCE: z.string().min(1).optional(),
  /** The issuer's JSON Web Key Set. @default - `<AUTH_ISSUER>/.well-known/jwks.json` (Cognito's layout) */
  AUTH_JWKS_URI: z.url().optional(),
  /** Clock skew accepted on `exp` and `nbf`. @default 5 */
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * After a successful JWKS fetch, how long an unknown `kid` waits before it may trigger another
   * fetch (a rotated key is found on the first token after that). @default 30000
   */
  AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * How long a fetched JWKS is used before the next request reads it again (jose's `cacheMaxAge`):
   * the longest a key withdrawn from the issuer's set keeps verifying new tokens. @default 600000
   */
  AUTH_JWKS_MAX_AGE_MS: z.coerce.number().int().min(1000).default(600_000),
  /** Time one JWKS fetch may take; then the request answers 503. @default 2000 */
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(1).default(2000),
  /**
   * Verified tokens remembered for reuse (until their `exp`, at most 60 s); 0 checks every request
   * in full. @default 10000
   */
  AUTH_VERIFIED_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
} as const;

/** The auth variables of a parsed config. */
export type AuthConfig = {
  readonly [K in keyof typeof authConfigShape]?: z.infer<(typeof authConfigShape)[K]>;
};
