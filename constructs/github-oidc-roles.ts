import { Aws, Stack } from 'aws-cdk-lib';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import {
  type IOidcProvider,
  OidcProviderNative,
  OpenIdConnectPrincipal,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PackageRegistry } from './package-registry.js';

/** The GitHub Actions OIDC issuer. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/** A service repo whose `ci.yml` pushes images to its ECR repository. */
export interface ServiceCiRepo {
  /** Service name (the role is `<platform>-<service>-ci`). */
  readonly service: string;
  /** The service's GitHub repository, `owner/name`. */
  readonly repository: string;
  /** Its ECR repository name, e.g. `naming.repository(platform, service)`. */
  readonly ecrRepository: string;
}

/** Properties for {@link GitHubOidcRoles}. */
export interface GitHubOidcRolesProps {
  /** Platform name: prefixes the role names. */
  readonly platform: string;
  /** The platform repo, `owner/name`. */
  readonly repository: string;
  /** The GitHub environment (and platform environment) these roles deploy. */
  readonly environment: string;
  /**
   * The EKS cluster the deploy role syncs Argo CD in. When set, an access entry lets the deploy
   * role edit objects in the `argocd` namespace only.
   *
   * @default - no access entry (add the deploy role to the cluster yourself)
   */
  readonly clusterName?: string;
  /**
   * Service repos that get an image-push role.
   *
   * @default - none
   */
  readonly services?: readonly ServiceCiRepo[];
  /**
   * The branch service repos push images from.
   *
   * @default 'main'
   */
  readonly serviceBranch?: string;
  /**
   * An existing GitHub OIDC provider (there can be only one per account).
   *
   * @default - one is created
   */
  readonly provider?: IOidcProvider;
  /**
   * CDK bootstrap qualifier, for the bootstrap role names.
   *
   * @default 'hnb659fds'
   */
  readonly bootstrapQualifier?: string;
  /**
   * The platform's npm registry. When set, a release role may publish to it, a read role lets
   * service repos' CI jobs install from it, and each image-push role may read it (the image build
   * runs `npm ci`).
   *
   * @default - no registry roles
   */
  readonly registry?: PackageRegistry;
}

/**
 * The IAM roles that the generated GitHub workflows assume through OIDC, in one account.
 *
 * - `<platform>-github-diff`: trusted only from the platform repo's pull requests; may assume the
 *   CDK bootstrap lookup role (read-only), which is all `cdk diff --method template` needs.
 * - `<platform>-github-deploy`: trusted only from jobs in the platform repo's GitHub environment
 *   `<environment>` (so the environment's reviewers gate it); may assume the CDK bootstrap deploy,
 *   publishing and lookup roles, describe the cluster, and (with `clusterName`) edit the `argocd`
 *   namespace to trigger a sync.
 * - `<platform>-<service>-ci`: trusted only from pushes to the service repo's main branch; may
 *   push to that service's ECR repository (and, with `registry`, read packages) and nothing else.
 * - with `registry`: `<platform>-github-release`, trusted only from jobs in the platform repo's
 *   GitHub environment `release`, may publish `@aio/*`; and `<platform>-packages-read`, trusted
 *   from the service repos' pull requests and main-branch pushes, may only read packages.
 *
 * No long-lived AWS keys are stored in GitHub.
 *
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 */
export class GitHubOidcRoles extends Construct {
  /** The GitHub OIDC provider. */
  public readonly provider: IOidcProvider;
  /** Role for `cdk diff` from pull requests. */
  public readonly diffRole: Role;
  /** Role for deploy jobs of the GitHub environment. */
  public readonly deployRole: Role;
  /** Image-push roles, by service name. */
  public readonly serviceCiRoles: ReadonlyMap<string, Role>;
  /** Publishes `@aio/*` from the release workflow (with `registry`). */
  public readonly releaseRole?: Role;
  /** Installs packages in service repos' CI (with `registry` and services). */
  public readonly packagesReadRole?: Role;

  constructor(scope: Construct, id: string, props: GitHubOidcRolesProps) {
    super(scope, id);
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    const serviceBranch = props.serviceBranch ?? 'main';
    const { account, region } = Stack.of(this);
    this.provider =
      props.provider ??
      // Native AWS::IAM::OIDCProvider: no custom-resource Lambda; IAM fetches the thumbprint.
      new OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIds: ['sts.amazonaws.com'],
      });
    const principal = (subject: string | readonly string[]) =>
      new OpenIdConnectPrincipal(this.provider, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_HOST}:sub`]: subject,
        },
      });
    const bootstrapRole = (kind: string) =>
      `arn:${Aws.PARTITION}:iam::${account}:role/cdk-${qualifier}-${kind}-role-${account}-${region}`;

    this.diffRole = new Role(this, 'DiffRole', {
      roleName: naming.githubDiffRole(props.platform),
      description: `cdk diff from pull requests of ${props.repository} (read-only)`,
      assumedBy: principal(`repo:${props.repository}:pull_request`),
    });
    this.diffRole.addToPolicy(
      new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [bootstrapRole('lookup')] }),
    );

    this.deployRole = new Role(this, 'DeployRole', {
      roleName: naming.githubDeployRole(props.platform),
      description: `deploys ${props.environment} from ${props.repository} (GitHub environment ${props.environment})`,
      assumedBy: principal(`repo:${props.repository}:environment:${props.environment}`),
    });
    this.deployRole.addToPolicy(
      new PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(bootstrapRole),
      }),
    );
    if (props.clusterName) {
      this.deployRole.addToPolicy(
        new PolicyStatement({
          actions: ['eks:DescribeCluster'],
          resources: [`arn:${Aws.PARTITION}:eks:${region}:${account}:cluster/${props.clusterName}`],
        }),
      );
      new CfnAccessEntry(this, 'DeployAccess', {
        clusterName: props.clusterName,
        principalArn: this.deployRole.roleArn,
        type: 'STANDARD',
        accessPolicies: [
          {
            policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
            accessScope: { type: 'namespace', namespaces: ['argocd'] },
          },
        ],
      });
    }

    const ciRoles = new Map<string, Role>();
    for (const svc of props.services ?? []) {
      const role = new Role(this, `Ci-${svc.service}`, {
        roleName: naming.serviceCiRole(props.platform, svc.service),
        description: `pushes ${svc.ecrRepository} images from ${svc.repository}@${serviceBranch}`,
        assumedBy: principal(`repo:${svc.repository}:ref:refs/heads/${serviceBranch}`),
      });
      // GetAuthorizationToken has no resource-level permissions; the push itself is scoped.
      role.addToPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
      role.addToPolicy(
        new PolicyStatement({
          actions: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchGetImage',
            'ecr:CompleteLayerUpload',
            'ecr:InitiateLayerUpload',
            'ecr:PutImage',
            'ecr:UploadLayerPart',
          ],
          resources: [`arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${svc.ecrRepository}`],
        }),
      );
      props.registry?.grantRead(role);
      ciRoles.set(svc.service, role);
    }
    this.serviceCiRoles = ciRoles;

    if (props.registry) {
      this.releaseRole = new Role(this, 'ReleaseRole', {
        roleName: naming.githubReleaseRole(props.platform),
        description: `publishes @${props.registry.scope}/* from ${props.repository} (GitHub environment ${naming.releaseEnvironment})`,
        assumedBy: principal(`repo:${props.repository}:environment:${naming.releaseEnvironment}`),
      });
      props.registry.grantPublish(this.releaseRole);
      const repos = (props.services ?? []).map((s) => s.repository);
      if (repos.length > 0) {
        this.packagesReadRole = new Role(this, 'PackagesReadRole', {
          roleName: naming.packagesReadRole(props.platform),
          description: `installs @${props.registry.scope}/* in CI of the service repos (read-only)`,
          assumedBy: principal(
            repos.flatMap((r) => [`repo:${r}:pull_request`, `repo:${r}:ref:refs/heads/${serviceBranch}`]),
          ),
        });
        props.registry.grantRead(this.packagesReadRole);
      }
    }
  }
}
