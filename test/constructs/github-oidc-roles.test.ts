import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { naming } from '../../model/naming.js';
import { GitHubOidcRoles } from '../../constructs/github-oidc-roles.js';
import { PackageRegistry } from '../../constructs/package-registry.js';

describe('GitHubOidcRoles', () => {
  let template: Template;
  let roles: GitHubOidcRoles;
  beforeAll(() => {
    const stack = new Stack(new App(), 'Ci', { env: { account: '222222222222', region: 'ap-northeast-2' } });
    roles = new GitHubOidcRoles(stack, 'GitHub', {
      platform: 'allinone',
      repository: 'allinone/platform',
      environment: 'prod',
      clusterName: 'allinone-prod',
      services: [
        {
          service: 'order',
          repository: 'allinone/order',
          ecrRepository: naming.repository('allinone', 'order'),
        },
      ],
    });
    template = Template.fromStack(stack);
  });

  const trust = (subject: string) => ({
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': subject,
            },
          },
        }),
      ],
    },
  });

  test('the diff role is trusted only from pull requests and may only assume the lookup role', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'allinone-github-diff',
      ...trust('repo:allinone/platform:pull_request'),
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('DiffRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement,
    );
    expect(JSON.stringify(statements)).toContain('cdk-hnb659fds-lookup-role-222222222222-ap-northeast-2');
    expect(JSON.stringify(statements)).not.toMatch(/deploy-role|"\*"/);
  });

  test('the deploy role is trusted only from the GitHub environment and edits only the argocd namespace', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'allinone-github-deploy',
      ...trust('repo:allinone/platform:environment:prod'),
    });
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'allinone-prod',
      AccessPolicies: [
        {
          PolicyArn: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSEditPolicy'],
            ],
          },
          AccessScope: { Type: 'namespace', Namespaces: ['argocd'] },
        },
      ],
    });
  });

  test('a service CI role pushes only to its own ECR repository, only from main', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'allinone-order-ci',
      ...trust('repo:allinone/order:ref:refs/heads/main'),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['ecr:PutImage']),
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ecr:ap-northeast-2:222222222222:repository/allinone/order',
                ],
              ],
            },
          }),
        ]),
      },
    });
    expect([...roles.serviceCiRoles.keys()]).toEqual(['order']);
  });

  test('creates one OIDC provider for the GitHub issuer', () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('GitHubOidcRoles with the package registry', () => {
  let template: Template;
  let roles: GitHubOidcRoles;
  beforeAll(() => {
    const app = new App();
    const env = { account: '111111111111', region: 'ap-northeast-2' };
    const packages = new Stack(app, 'Packages', { env: { ...env, region: 'ap-northeast-1' } });
    const registry = new PackageRegistry(packages, 'Packages', { platform: 'allinone' });
    const stack = new Stack(app, 'Ci', { env });
    roles = new GitHubOidcRoles(stack, 'GitHub', {
      platform: 'allinone',
      repository: 'allinone/platform',
      environment: 'dev',
      registry,
      services: [{ service: 'order', repository: 'allinone/order', ecrRepository: 'allinone/order' }],
    });
    template = Template.fromStack(stack);
  });

  const statementsOf = (logicalPrefix: string) =>
    Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(logicalPrefix) }] },
      }),
    ).flatMap((p) => (p.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement);

  test('the release role is trusted only from the release environment and publishes only @aio/*', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: naming.githubReleaseRole('allinone'),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': 'repo:allinone/platform:environment:release',
              },
            },
          }),
        ],
      },
    });
    const release = JSON.stringify(statementsOf('ReleaseRole'));
    expect(release).toContain(':codeartifact:ap-northeast-1:111111111111:package/allinone/npm/npm/aio/*');
    expect(release).toContain('codeartifact:PublishPackageVersion');
  });

  test('service repos read packages from pull requests and main, and may never publish', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: naming.packagesReadRole('allinone'),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': [
                  'repo:allinone/order:pull_request',
                  'repo:allinone/order:ref:refs/heads/main',
                ],
              },
            },
          }),
        ],
      },
    });
    for (const role of ['PackagesReadRole', 'Ciorder']) {
      const text = JSON.stringify(statementsOf(role));
      expect(text).toContain('codeartifact:ReadFromRepository');
      expect(text).not.toContain('Publish');
    }
    expect(roles.packagesReadRole).toBeDefined();
  });
});
