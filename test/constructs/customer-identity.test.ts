import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { afterAll, describe, expect, test } from 'vitest';
import { CustomerIdentity, type CustomerIdentityProps } from '../../constructs/customer-identity.js';
import { createGatedApp, synthesizeGated } from '../../constructs/gates.js';
import { IdentityStack } from '../../constructs/identity-stack.js';
import { createPlatformStacks } from '../../constructs/platform-stage.js';
import { naming, parsePlatform, ValidationError } from '../../model/index.js';
import { PLATFORM_FIXTURE_FILE, PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CALLBACKS = ['https://shop.example.com/'];

function identity(props: Partial<CustomerIdentityProps> = {}, region = 'ap-northeast-2') {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region } });
  const construct = new CustomerIdentity(stack, 'Identity', {
    platform: 'p',
    environment: 'prod',
    callbackUrls: CALLBACKS,
    ...props,
  });
  return { stack, construct, t: Template.fromStack(stack) };
}

/** The user pool's logical id in a template. */
function poolId(t: Template): string {
  return Object.keys(t.findResources('AWS::Cognito::UserPool'))[0]!;
}

/** The literal text of the issuer secret, with every token written as `<Ref>` or `<region>`. */
function secretText(t: Template): string {
  const secrets = t.findResources('AWS::SecretsManager::Secret', {
    Properties: { Name: naming.identitySecret('p', 'prod') },
  });
  const [secret] = Object.values(secrets) as { Properties: { SecretString: unknown } }[];
  return flatten(secret!.Properties.SecretString);
}

/** An Fn::Join of literals and Refs as one string, each Ref as `<Ref:name>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(flatten).join('');
  if (v.Ref) return `<Ref:${String(v.Ref)}>`;
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

describe('CustomerIdentity', () => {
  test('creates a production pool: email as username, strong passwords, MFA required, threat protection enforced', () => {
    const { t } = identity({ production: true });
    t.resourceCountIs('AWS::Cognito::UserPool', 1);
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolName: 'p-prod-customers',
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: false }),
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          PasswordHistorySize: 5,
          TemporaryPasswordValidityDays: 3,
        },
      },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
    t.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    t.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  test('makes MFA optional, audits threats and destroys the pool with the stack outside production', () => {
    const { t } = identity({ environment: 'dev' });
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolAddOns: { AdvancedSecurityMode: 'AUDIT' },
      DeletionProtection: 'INACTIVE',
    });
    t.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete' });
  });

  test('leaves sign-up to administrators when selfSignUp is false', () => {
    const { t } = identity({ selfSignUp: false });
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: true }),
    });
  });

  test('gives the public client no secret and only the authorization code grant', () => {
    const { t } = identity();
    t.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'p-prod-customer-apps',
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: CALLBACKS,
      LogoutURLs: CALLBACKS,
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      IdTokenValidity: 15,
      AccessTokenValidity: 15,
      RefreshTokenValidity: 10080,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
      ReadAttributes: ['email', 'email_verified'],
      WriteAttributes: ['email'],
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'p-prod' });
  });

  test('builds the issuer from the region and the partition URL suffix, and publishes it with the audience and JWKS URI', () => {
    const { t, construct, stack } = identity();
    const pool = poolId(t);
    const client = Object.keys(t.findResources('AWS::Cognito::UserPoolClient'))[0]!;
    const issuer = `https://cognito-idp.ap-northeast-2.<Ref:AWS::URLSuffix>/<Ref:${pool}>`;
    expect(flatten(stack.resolve(construct.issuer))).toBe(issuer);
    expect(JSON.parse(secretText(t))).toEqual({
      issuer,
      audience: `<Ref:${client}>`,
      jwksUri: `${issuer}/.well-known/jwks.json`,
    });
    for (const output of ['Issuer', 'Audience', 'JwksUri', 'SignInDomain']) {
      expect(Object.keys(t.findOutputs('*')).some((id) => id.includes(output))).toBe(true);
    }
  });

  test('keeps the partition URL suffix a token in another partition (GovCloud)', () => {
    const { t } = identity({}, 'us-gov-west-1');
    // AWS::URLSuffix resolves per partition; a literal amazonaws.com would be wrong in some of them.
    expect(secretText(t)).toContain('https://cognito-idp.us-gov-west-1.<Ref:AWS::URLSuffix>/');
    expect(secretText(t)).not.toContain('amazonaws.com');
  });

  test('creates no IAM role (no SMS, no triggers)', () => {
    const { t } = identity({ production: true });
    t.resourceCountIs('AWS::IAM::Role', 0);
    t.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test.each([
    ['prod', true],
    ['dev', false],
  ])('passes cdk-nag and CloudFormation validation in its stack (%s)', (environment, production) => {
    const outdir = mkdtempSync(join(tmpdir(), 'aio-identity-'));
    dirs.push(outdir);
    const app = createGatedApp({ outdir });
    new IdentityStack(app, `p-${environment}-identity`, {
      env: { account: '111111111111', region: 'ap-northeast-2' },
      identity: { platform: 'p', environment, production, callbackUrls: CALLBACKS },
    });
    const { assembly, findings } = synthesizeGated(app);
    expect(findings).toEqual([]);
    expect(assembly).toBeDefined();
  });

  test.each<[string, Partial<CustomerIdentityProps>, RegExp]>([
    ['MFA off', { mfa: cognito.Mfa.OFF }, /'mfa' must be OPTIONAL or REQUIRED, got OFF/],
    [
      'a token valid for 2 days',
      { tokenValidity: Duration.days(2) },
      /'tokenValidity' must be from 5 minutes to 1 day/,
    ],
    [
      'a refresh token shorter than the tokens',
      { refreshTokenValidity: Duration.minutes(10) },
      /'refreshTokenValidity' must be longer than 'tokenValidity'/,
    ],
    [
      'a reserved word in the domain prefix',
      { domainPrefix: 'shop-cognito' },
      /'domainPrefix' must be .* got 'shop-cognito'/,
    ],
    [
      'an http callback',
      { callbackUrls: ['http://shop.example.com/'] },
      /'callbackUrls' must be https:\/\/ URLs/,
    ],
    ['no callback', { callbackUrls: [] }, /'callbackUrls' must name at least one URL/],
  ])('throws for %s', (_name, props, message) => {
    expect(() => identity(props)).toThrow(ValidationError);
    expect(() => identity(props)).toThrow(message);
  });

  test('accepts a localhost callback for a developer machine', () => {
    const { t } = identity({ callbackUrls: ['http://localhost:3000/callback'] });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['http://localhost:3000/callback'],
    });
  });
});

describe('createPlatformStacks with identity', () => {
  /** The fixture platform with its identity block replaced by `identity`. */
  function platform(identity: string) {
    const block = `identity:\n${identity}\n`;
    const named = /^identity:\n(?: .*\n)*/m;
    const text = named.test(PLATFORM_FIXTURE_YAML)
      ? PLATFORM_FIXTURE_YAML.replace(named, block)
      : `${PLATFORM_FIXTURE_YAML}\n${block}`;
    return parsePlatform(text, { file: PLATFORM_FIXTURE_FILE });
  }

  test('adds <platform>-<env>-identity before the cluster for provision: cognito, with the gateway hosts as callbacks', () => {
    const model = platform('  provision: cognito');
    const stacks = createPlatformStacks(new App(), { model, environment: 'prod' });
    const identity = stacks.identity!;
    expect(identity.stackName).toBe('allinone-prod-identity');
    expect(identity.terminationProtection).toBe(true);
    expect(stacks.cluster.dependencies).toContain(identity);
    const t = Template.fromStack(identity);
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      DeletionProtection: 'ACTIVE',
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: model.spec.gateway.hosts.map((h) => `https://${h}/`),
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: naming.identitySecret('allinone', 'prod'),
    });
  });

  test('adds no identity stack when platform.yaml names its own issuer', () => {
    const model = platform('  issuer: https://login.example/\n  audience: shop');
    const stacks = createPlatformStacks(new App(), { model, environment: 'dev' });
    expect(stacks.identity).toBeUndefined();
  });
});
