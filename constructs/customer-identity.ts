import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { acknowledge } from './private/acknowledge.js';

/** Properties for {@link CustomerIdentity}. */
export interface CustomerIdentityProps {
  /** Platform name (pool, client, domain prefix and secret name). */
  readonly platform: string;
  /** Environment name (pool, client, domain prefix and secret name). */
  readonly environment: string;
  /**
   * Where the sign-in page may send a customer back with an authorization code: `https://` URLs
   * (or `http://localhost` for a developer's machine), at least one.
   */
  readonly callbackUrls: readonly string[];
  /**
   * Where the sign-out endpoint may send a customer back.
   *
   * @default - the callbackUrls
   */
  readonly logoutUrls?: readonly string[];
  /**
   * Production settings: MFA required, threat protection enforced, deletion protection, and the
   * pool and its secret retained when the stack is deleted.
   *
   * @default false
   */
  readonly production?: boolean;
  /**
   * Whether customers may create their own account on the sign-in page (a shop's customers do);
   * without it only an administrator creates users.
   *
   * @default true
   */
  readonly selfSignUp?: boolean;
  /**
   * MFA (a TOTP authenticator app; SMS would need an SNS role and email MFA an SES identity).
   * `Mfa.OFF` is refused.
   *
   * @default - Mfa.REQUIRED in production, Mfa.OPTIONAL otherwise
   */
  readonly mfa?: cognito.Mfa;
  /**
   * Threat protection of password sign-in (the Plus feature plan): compromised credentials and
   * adaptive authentication.
   *
   * @default - FULL_FUNCTION (block) in production, AUDIT_ONLY otherwise
   */
  readonly threatProtection?: cognito.StandardThreatProtectionMode;
  /**
   * Prefix of the Cognito domain of the sign-in page, `<prefix>.auth.<region>.amazoncognito.com`;
   * unique in the region, lowercase letters, digits and hyphens, without `aws`, `amazon` or `cognito`.
   *
   * @default - `<platform>-<environment>`
   */
  readonly domainPrefix?: string;
  /**
   * How long an ID or access token is valid (5 minutes to 1 day). Short, because a token cannot be
   * recalled from the services that verify it offline.
   *
   * @default Duration.minutes(15)
   */
  readonly tokenValidity?: Duration;
  /**
   * How long a refresh token is valid (longer than tokenValidity, at most 10 years); revoked on
   * sign-out.
   *
   * @default Duration.days(7)
   */
  readonly refreshTokenValidity?: Duration;
  /**
   * What happens to the user pool and its secret when the stack is deleted.
   *
   * @default - RETAIN in production, DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The customers' token issuer of one environment (`identity: { provision: cognito }`): an Amazon
 * Cognito user pool, its public app client and the sign-in page's domain.
 *
 * - Customers sign in with their email address (case-insensitive, verified, kept until a new one is
 *   verified) and may sign up themselves; accounts are recovered by email only.
 * - Passwords of at least 12 characters with lower and upper case, digits and symbols, none of the
 *   last 5 again; MFA with an authenticator app, required in production.
 * - The Plus feature plan, for threat protection (blocked in production, audited elsewhere).
 * - One public client, for the shop's web and mobile apps: no client secret (a public client
 *   cannot keep one), the authorization code grant only (no implicit grant, no client credentials,
 *   no password, SRP or custom sign-in flows: every sign-in goes through the sign-in page, where
 *   threat protection and MFA apply), scopes `openid` and `email`, and user existence errors
 *   hidden. Cognito has no setting that requires PKCE; it verifies a `code_verifier` whenever the
 *   app sent a `code_challenge`, so the apps use PKCE (S256) as OAuth 2.0 for public clients asks.
 * - The issuer is `https://cognito-idp.<region>.<partition URL suffix>/<pool id>` (the `iss` of every
 *   token the pool issues), its keys are at `<issuer>/.well-known/jwks.json`, and the audience is
 *   the client id: the `aud` of the pool's ID tokens. (Its access tokens carry the client id as
 *   `client_id` and no `aud`, so the bearer token the gateway and the services check is the ID
 *   token.)
 *
 * The three values are published as the secret `naming.identitySecret(platform, env)` (JSON
 * `issuer`, `audience`, `jwksUri`), which External Secrets delivers to the pods like every other
 * value they read, and as stack outputs. No IAM role is created.
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/using-pkce-in-authorization-code.html
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-sign-in-feature-plans.html
 * @see https://docs.aws.amazon.com/verifiedpermissions/latest/userguide/cognito-validation.html
 */
export class CustomerIdentity extends Construct {
  /** The user pool. */
  public readonly userPool: cognito.UserPool;
  /** The public app client; its id is the audience. */
  public readonly client: cognito.UserPoolClient;
  /** The Cognito domain of the sign-in page. */
  public readonly domain: cognito.UserPoolDomain;
  /** The issuer URL (`iss`). */
  public readonly issuer: string;
  /** The audience (`aud`): the app client id. */
  public readonly audience: string;
  /** The JWKS URI of the pool's signing keys. */
  public readonly jwksUri: string;
  /** The secret the gateway and the services read: issuer, audience, jwksUri. */
  public readonly secret: secretsmanager.CfnSecret;

  constructor(scope: Construct, id: string, props: CustomerIdentityProps) {
    super(scope, id);
    const production = props.production ?? false;
    const mfa = props.mfa ?? (production ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL);
    const threatProtection =
      props.threatProtection ??
      (production
        ? cognito.StandardThreatProtectionMode.FULL_FUNCTION
        : cognito.StandardThreatProtectionMode.AUDIT_ONLY);
    const removalPolicy = props.removalPolicy ?? (production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const tokenValidity = props.tokenValidity ?? Duration.minutes(15);
    const refreshTokenValidity = props.refreshTokenValidity ?? Duration.days(7);
    const domainPrefix = props.domainPrefix ?? `${props.platform}-${props.environment}`;
    const callbackUrls = [...props.callbackUrls];
    const logoutUrls = [...(props.logoutUrls ?? props.callbackUrls)];
    this.validate({ mfa, tokenValidity, refreshTokenValidity, domainPrefix, callbackUrls, logoutUrls });

    const name = `${props.platform}-${props.environment}-customers`;
    this.userPool = new cognito.UserPool(this, 'Resource', {
      userPoolName: name,
      selfSignUpEnabled: props.selfSignUp ?? true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        passwordHistorySize: 5,
        tempPasswordValidity: Duration.days(3),
      },
      mfa,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: threatProtection,
      deletionProtection: production,
      removalPolicy,
    });

    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    this.client = this.userPool.addClient('PublicClient', {
      userPoolClientName: `${props.platform}-${props.environment}-customer-apps`,
      generateSecret: false,
      // Every flag off: only ALLOW_REFRESH_TOKEN_AUTH remains, so tokens come from the code grant.
      authFlows: {
        userPassword: false,
        adminUserPassword: false,
        custom: false,
        userSrp: false,
        user: false,
      },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls,
        logoutUrls,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: tokenValidity,
      accessTokenValidity: tokenValidity,
      refreshTokenValidity,
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({
        email: true,
        emailVerified: true,
      }),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    const stack = Stack.of(this);
    // Cognito's issuer host is cognito-idp.<region>.<URL suffix of the partition>: AWS::URLSuffix
    // resolves it wherever the stack is deployed instead of a literal amazonaws.com.
    this.issuer = Fn.join('', [
      'https://cognito-idp.',
      stack.region,
      '.',
      stack.urlSuffix,
      '/',
      this.userPool.userPoolId,
    ]);
    this.jwksUri = Fn.join('', [this.issuer, '/.well-known/jwks.json']);
    this.audience = this.client.userPoolClientId;

    this.secret = new secretsmanager.CfnSecret(this, 'IssuerSecret', {
      name: naming.identitySecret(props.platform, props.environment),
      description: `Customer token issuer of ${props.platform} ${props.environment} (issuer, audience, jwksUri)`,
      secretString: Fn.join('', [
        '{"issuer":"',
        this.issuer,
        '","audience":"',
        this.audience,
        '","jwksUri":"',
        this.jwksUri,
        '"}',
      ]),
    });
    this.secret.applyRemovalPolicy(removalPolicy);
    acknowledge(
      this.secret,
      ['AwsSolutions-SMG4'],
      'the issuer secret holds public configuration (the issuer URL, the app client id and the JWKS URI), no credential; it changes only when the user pool or its client is replaced',
    );
    if (mfa !== cognito.Mfa.REQUIRED) {
      acknowledge(
        this.userPool,
        ['AwsSolutions-COG2'],
        'MFA is optional outside production so that test customers can sign in without an authenticator app; production requires it (CustomerIdentity production: true)',
      );
    }

    new CfnOutput(this, 'Issuer', { value: this.issuer, description: 'Customer token issuer (iss)' });
    new CfnOutput(this, 'Audience', {
      value: this.audience,
      description: 'Token audience (aud): the app client id',
    });
    new CfnOutput(this, 'JwksUri', { value: this.jwksUri, description: 'JWKS URI of the issuer' });
    new CfnOutput(this, 'SignInDomain', {
      value: this.domain.baseUrl(),
      description: 'Sign-in page (authorize and token endpoints)',
    });
  }

  private validate(v: {
    mfa: cognito.Mfa;
    tokenValidity: Duration;
    refreshTokenValidity: Duration;
    domainPrefix: string;
    callbackUrls: string[];
    logoutUrls: string[];
  }): void {
    const fail = (message: string): never => {
      throw new ValidationError(message, { path: this.node.path });
    };
    if (v.mfa === cognito.Mfa.OFF) fail(`'mfa' must be OPTIONAL or REQUIRED, got OFF`);
    const minutes = v.tokenValidity.toMinutes({ integral: false });
    if (minutes < 5 || minutes > 24 * 60) {
      fail(`'tokenValidity' must be from 5 minutes to 1 day, got ${v.tokenValidity.toHumanString()}`);
    }
    const refreshMinutes = v.refreshTokenValidity.toMinutes({ integral: false });
    if (refreshMinutes <= minutes || refreshMinutes > 3650 * 24 * 60) {
      fail(
        `'refreshTokenValidity' must be longer than 'tokenValidity' and at most 10 years, got ${v.refreshTokenValidity.toHumanString()}`,
      );
    }
    if (!Token.isUnresolved(v.domainPrefix)) {
      if (
        !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v.domainPrefix) ||
        /aws|amazon|cognito/.test(v.domainPrefix)
      ) {
        fail(
          `'domainPrefix' must be 1 to 63 lowercase letters, digits or hyphens without 'aws', 'amazon' or 'cognito', got '${v.domainPrefix}'; set another prefix`,
        );
      }
    }
    for (const [prop, urls] of [
      ['callbackUrls', v.callbackUrls],
      ['logoutUrls', v.logoutUrls],
    ] as const) {
      if (urls.length === 0) fail(`'${prop}' must name at least one URL`);
      for (const url of urls) {
        if (Token.isUnresolved(url)) continue;
        if (!/^https:\/\/[^/\s]+/.test(url) && !/^http:\/\/localhost(?::\d+)?(?:\/|$)/.test(url)) {
          fail(`'${prop}' must be https:// URLs (or http://localhost), got '${url}'`);
        }
      }
    }
  }
}
