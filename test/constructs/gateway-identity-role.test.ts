import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createPlatformStacks } from '../../constructs/platform-stage.js';
import { loadPlatform, naming, PlatformModel, type PlatformSpec } from '../../model/index.js';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';

// The gateway's External Secrets store for a provisioned issuer: a role the controller assumes,
// which reads the identity secret and nothing else.
const COGNITO = fileURLToPath(new URL('../fixtures/cognito/platform.yaml', import.meta.url));
const cognito = loadPlatform(COGNITO);
const template = Template.fromStack(
  createPlatformStacks(new App(), { model: cognito, environment: 'prod' }).cluster,
);
const ROLE = naming.gatewayIdentityRole('allinone', 'prod');

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
function policyOf(roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}
const logicalId = (props: Record<string, unknown>) => {
  const ids = Object.keys(template.findResources('AWS::IAM::Role', { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

describe('ClusterAddons gateway identity role', () => {
  const reader = logicalId({ RoleName: ROLE });
  const controller = logicalId({
    Description: Match.stringLikeRegexp('^External Secrets Operator: reads allinone/prod/\\*'),
  });

  test('may read exactly the identity secret, in the stack partition', () => {
    expect(policyOf(reader)).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:ap-northeast-2:222222222222:secret:allinone/prod/identity-??????',
            ],
          ],
        },
      },
    ]);
  });

  test('is assumed by the External Secrets controller role only, with its transitive session tags', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: ROLE,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Principal: { AWS: { 'Fn::GetAtt': [controller, 'Arn'] } },
          },
        ],
      },
    });
    expect(policyOf(controller)).toContainEqual({
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: { 'Fn::GetAtt': [reader, 'Arn'] },
    });
  });

  test('is not created for an issuer named in platform.yaml', () => {
    const named = Template.fromStack(
      createPlatformStacks(new App(), { model: loadPlatform(PLATFORM_FIXTURE_FILE), environment: 'prod' })
        .cluster,
    );
    named.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      { RoleName: naming.gatewayIdentityRole('allinone', 'prod') },
      0,
    );
  });

  test('throws when the role name would exceed IAM’s 64 characters', () => {
    const spec = structuredClone(cognito.spec) as PlatformSpec;
    const envs = spec.environments as Record<string, unknown>;
    envs['a-very-long-environment-name-for-this'] = envs.prod;
    const model = new PlatformModel(spec, cognito.file);
    expect(() =>
      createPlatformStacks(new App(), { model, environment: 'a-very-long-environment-name-for-this' }),
    ).toThrow(/'gatewayIdentitySecret': the gateway's identity role '.*' is 70 characters, IAM allows 64/);
  });
});
