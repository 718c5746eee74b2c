/** The environment variables the kit reads its customer token check from (`services/kit/src/auth/`). */
export const TOKEN_ISSUER_ENV = {
  issuer: 'AUTH_ISSUER',
  audience: 'AUTH_AUDIENCE',
  jwksUri: 'AUTH_JWKS_URI',
} as const;

/** An issuer's three values, as platform.yaml names them. */
export interface TokenIssuerValues {
  /** The exact `iss` claim. */
  readonly issuer: string;
  /** The `aud` claim tokens must carry. */
  readonly audience: string;
  /** Where the issuer publishes its signing keys. */
  readonly jwksUri: string;
}

/**
 * Where a service's pods get the customer token issuer ({@link TOKEN_ISSUER_ENV}) from.
 *
 * - {@link TokenIssuer.of}: an existing issuer named in platform.yaml; the values are written into
 *   the Deployment (none of them is secret).
 * - {@link TokenIssuer.fromSecret}: an issuer the AWS layer provisions (`identity: { provision:
 *   cognito }`), whose pool id exists only once the environment is deployed; an ExternalSecret
 *   copies the JSON keys `issuer`, `audience`, `jwksUri` of the Secrets Manager secret into the pods.
 */
export class TokenIssuer {
  /** An issuer whose values are known at synth time. */
  public static of(values: TokenIssuerValues): TokenIssuer {
    return new TokenIssuer(values, undefined);
  }

  /** An issuer published as a Secrets Manager secret, e.g. `naming.identitySecret(platform, env)`. */
  public static fromSecret(secretName: string): TokenIssuer {
    return new TokenIssuer(undefined, secretName);
  }

  private constructor(
    /** The values, for an issuer known at synth time. */
    public readonly values: TokenIssuerValues | undefined,
    /** The Secrets Manager secret, for a provisioned issuer. */
    public readonly secretName: string | undefined,
  ) {}
}
