import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, test } from 'vitest';
import { PackageRegistry } from '../../constructs/package-registry.js';
import { naming } from '../../model/naming.js';

const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

describe('PackageRegistry', () => {
  let template: Template;
  let registry: PackageRegistry;
  beforeAll(() => {
    const stack = new Stack(new App(), 'Packages', {
      env: { account: '111111111111', region: 'ap-northeast-1' },
    });
    registry = new PackageRegistry(stack, 'Packages', { platform: 'allinone' });
    const reader = new Role(stack, 'Reader', { assumedBy: new ServicePrincipal('codebuild.amazonaws.com') });
    const publisher = new Role(stack, 'Publisher', {
      assumedBy: new ServicePrincipal('codebuild.amazonaws.com'),
    });
    registry.grantRead(reader);
    registry.grantPublish(publisher);
    template = Template.fromStack(stack);
  });

  test('encrypts the domain with a rotating customer-managed key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::CodeArtifact::Domain', {
      DomainName: 'allinone',
      EncryptionKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('PackagesKey'), 'Arn'] },
    });
  });

  test('serves npmjs.org through an upstream, and keeps the platform repository free of external connections', () => {
    template.hasResourceProperties('AWS::CodeArtifact::Repository', {
      RepositoryName: 'npm-npmjs',
      ExternalConnections: ['public:npmjs'],
    });
    template.hasResourceProperties('AWS::CodeArtifact::Repository', {
      RepositoryName: 'npm',
      Upstreams: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('PackagesNpmjs'), 'Name'] }],
      ExternalConnections: Match.absent(),
    });
    template.resourceCountIs('AWS::CodeArtifact::Repository', 2);
  });

  test('keeps the registry when the stack is deleted', () => {
    for (const type of ['AWS::CodeArtifact::Domain', 'AWS::CodeArtifact::Repository', 'AWS::KMS::Key']) {
      for (const r of Object.values(template.findResources(type))) expect(r.DeletionPolicy).toBe('Retain');
    }
  });

  test('read access: a token for this domain, reads of this repository, and a bearer token for CodeArtifact only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Reader') }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'codeartifact:GetAuthorizationToken',
            Effect: 'Allow',
            Resource: partitionArn(':codeartifact:ap-northeast-1:111111111111:domain/allinone'),
          },
          {
            Action: ['codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository'],
            Effect: 'Allow',
            Resource: partitionArn(':codeartifact:ap-northeast-1:111111111111:repository/allinone/npm'),
          },
          {
            Action: 'sts:GetServiceBearerToken',
            Condition: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
            Effect: 'Allow',
            Resource: '*',
          },
        ],
      },
    });
  });

  test('publish access covers only the @aio scope, and never reads outside the repository', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Publisher') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['codeartifact:PublishPackageVersion', 'codeartifact:PutPackageMetadata'],
            Effect: 'Allow',
            Resource: partitionArn(
              ':codeartifact:ap-northeast-1:111111111111:package/allinone/npm/npm/aio/*',
            ),
          },
        ]),
      },
    });
    const reader = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Reader') }] },
      }),
    );
    expect(JSON.stringify(reader)).not.toContain('Publish');
  });

  test('the registry URL is the one the scaffolder writes into .npmrc', () => {
    expect(
      naming.npmRegistryUrl(
        { domain: 'allinone', repository: 'npm' },
        {
          account: '111111111111',
          region: 'ap-northeast-1',
        },
      ),
    ).toBe('https://allinone-111111111111.d.codeartifact.ap-northeast-1.amazonaws.com/npm/npm/');
    expect(Stack.of(registry).resolve(registry.npmUrl)).toEqual({
      'Fn::Join': [
        '',
        [
          'https://allinone-111111111111.d.codeartifact.ap-northeast-1.',
          { Ref: 'AWS::URLSuffix' },
          '/npm/npm/',
        ],
      ],
    });
    expect(
      naming.npmRegistryUrl({ domain: 'x', repository: 'npm' }, { account: '1', region: 'cn-north-1' }),
    ).toContain('.amazonaws.com.cn/npm/npm/');
  });
});
