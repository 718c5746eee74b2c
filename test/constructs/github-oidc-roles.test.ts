import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { naming } from '../../model/naming.js';
import { GitHubOidcRoles } from '../../constructs/github-oidc-roles.js';

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
