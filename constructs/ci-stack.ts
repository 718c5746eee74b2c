import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { GitHubOidcRoles, type ServiceCiRepo } from './github-oidc-roles.js';
import type { PackageRegistry } from './package-registry.js';
import { acknowledge } from './private/acknowledge.js';

/** Properties for {@link CiStack}. */
export interface CiStackProps extends StackProps {
  /** Platform name: prefixes the role names (`model/naming.ts`). */
  readonly platform: string;
  /** Environment name: the GitHub environment whose jobs may assume the deploy role. */
  readonly environment: string;
  /** The platform repo, `owner/name`. */
  readonly repository: string;
  /**
   * The EKS cluster the deploy role may reach (an access entry scoped to the `argocd` namespace).
   *
   * @default - no access entry
   */
  readonly clusterName?: string;
  /**
   * Service repos that get an image-push role in this account.
   *
   * @default - none
   */
  readonly services?: readonly ServiceCiRepo[];
  /**
   * The platform's npm registry (`PackagesStack`): adds the release and read roles. Only the
   * account service images are pushed to gets them.
   *
   * @default - no registry roles
   */
  readonly registry?: PackageRegistry;
}

/**
 * The IAM roles the generated GitHub workflows assume in one environment's account, through GitHub
 * OIDC: `<platform>-github-diff`, `<platform>-github-deploy` (with an EKS access entry on the
 * environment's cluster) and `<platform>-<service>-ci` for each service repo given; with
 * `registry`, `<platform>-github-release` (publishes) and
 * `<platform>-packages-read` (service repos' CI installs).
 *
 * Role names and the OIDC provider are account-wide, so there is one CI stack per account.
 *
 * @see ./github-oidc-roles.ts
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 */
export class CiStack extends Stack {
  /** The roles. */
  public readonly roles: GitHubOidcRoles;

  constructor(scope: Construct, id: string, props: CiStackProps) {
    super(scope, id, props);
    this.roles = new GitHubOidcRoles(this, 'GitHub', {
      registry: props.registry,
      platform: props.platform,
      repository: props.repository,
      environment: props.environment,
      clusterName: props.clusterName,
      services: props.services,
    });
    const bearer = props.registry
      ? '; sts:GetServiceBearerToken has no resource either, and its condition limits it to CodeArtifact'
      : '';
    for (const role of this.roles.serviceCiRoles.values()) {
      acknowledge(
        role,
        ['AwsSolutions-IAM5[Resource::*]'],
        `ecr:GetAuthorizationToken has no resource-level permissions; the push actions are limited to the service repository${bearer}`,
      );
    }
    if (props.registry && this.roles.releaseRole) {
      const r = props.registry;
      const { account, region } = Stack.of(r);
      const tokenReason =
        'sts:GetServiceBearerToken has no resource-level permissions; its condition limits it to codeartifact.amazonaws.com';
      acknowledge(this.roles.releaseRole, ['AwsSolutions-IAM5[Resource::*]'], tokenReason);
      acknowledge(
        this.roles.releaseRole,
        [
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codeartifact:${region}:${account}:package/${r.domainName}/${r.repositoryName}/npm/${r.scope}/*]`,
        ],
        `publishing is limited to the @${r.scope} scope; new package names in it must be publishable without a stack update`,
      );
      if (this.roles.packagesReadRole) {
        acknowledge(this.roles.packagesReadRole, ['AwsSolutions-IAM5[Resource::*]'], tokenReason);
      }
    }
  }
}
