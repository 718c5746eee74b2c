import { type Stack, Stage, Tags, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { naming, type PlatformModel } from '../model/index.js';
import { CiStack } from './ci-stack.js';
import { ClusterStack } from './cluster-stack.js';
import { IdentityStack } from './identity-stack.js';
import { NetworkStack } from './network-stack.js';
import { PackagesStack } from './packages-stack.js';
import { sizeProfile } from './private/profile.js';
import { ServiceStack } from './service-stack.js';

/** What to build: one environment of a platform. */
export interface PlatformEnvironmentProps {
  /** The validated platform. */
  readonly model: PlatformModel;
  /** Name of the environment in the model, e.g. `prod`. */
  readonly environment: string;
  /**
   * GitHub repository (`owner/name`) of each service, for its image-push role.
   *
   * @default - `<owner of gitops.repoUrl>/<service>`
   */
  readonly serviceRepositories?: Readonly<Record<string, string>>;
}

/** The stacks of one environment. */
export interface PlatformStacks {
  readonly network: NetworkStack;
  readonly cluster: ClusterStack;
  /** One stack per service, by service name. */
  readonly services: ReadonlyMap<string, ServiceStack>;
  /**
   * The GitHub OIDC roles of the environment's account, when `gitops.repoUrl` is a GitHub
   * repository and no earlier environment of the model uses the same account.
   */
  readonly ci?: CiStack;
  /**
   * The customers' Cognito user pool, when platform.yaml says `identity: { provision: cognito }`.
   */
  readonly identity?: IdentityStack;
  /**
   * The npm registry (CodeArtifact) for `@aio/*`: in the first environment only, in
   * `packages.region` of its account, when `ci` exists there.
   */
  readonly packages?: PackagesStack;
}

/**
 * Creates every stack of one environment under `scope` (an App or a Stage):
 * `<platform>-<env>-network` → `<platform>-<env>-cluster` → `<platform>-<env>-svc-<name>` per service,
 * and `<platform>-<env>-identity` (before the cluster) when platform.yaml provisions a Cognito issuer.
 *
 * References between them are explicit props (VPC, cluster name, cluster security group), which CDK
 * turns into exports and imports, plus explicit stack dependencies. Tags `platform`, `env`, and on
 * service stacks `service` and `owner`, go on every taggable resource for cost allocation.
 *
 * @throws ValidationError when the environment is not in the model
 */
export function createPlatformStacks(scope: Construct, props: PlatformEnvironmentProps): PlatformStacks {
  const { model } = props;
  const env = model.environment(props.environment);
  const profile = sizeProfile(env);
  const awsEnv = { account: env.account, region: env.region };
  const prefix = `${model.name}-${env.name}`;
  const tag = (stack: Stack, tags: Record<string, string>) => {
    for (const [k, v] of Object.entries(tags)) Tags.of(stack).add(k, v);
  };

  const network = new NetworkStack(scope, `${prefix}-network`, {
    env: awsEnv,
    terminationProtection: profile.production,
    stackName: `${prefix}-network`,
    description: `${model.name} ${env.name}: VPC, flow logs and endpoints`,
    network: {
      region: env.region,
      maxAzs: profile.maxAzs,
      natGateways: profile.natGateways,
      flowLogRetentionDays: profile.logRetentionDays,
      removalPolicy: profile.logRemovalPolicy,
    },
  });
  tag(network, naming.tags(model.name, env.name));

  const cluster = new ClusterStack(scope, `${prefix}-cluster`, {
    env: awsEnv,
    terminationProtection: profile.production,
    stackName: `${prefix}-cluster`,
    description: `${model.name} ${env.name}: EKS cluster and add-ons`,
    cluster: {
      vpc: network.vpc,
      clusterName: prefix,
      kubernetesVersion: model.spec.cluster.kubernetesVersion,
      adminRoleArns: env.adminRoleArns,
      nodeInstanceTypes: profile.nodeInstanceTypes,
      nodes: profile.nodes,
    },
    addons: {
      platform: model.name,
      environment: env.name,
      gitops: model.spec.gitops,
      certificateArn: env.certificateArn,
      tracingNamespace: model.spec.tracing.namespace,
      tracingSamplingPercent: model.spec.mesh.tracing.sampling,
      highAvailability: profile.production,
      gatewayIdentitySecret:
        model.identity?.kind === 'cognito' ? naming.identitySecret(model.name, env.name) : undefined,
    },
    // Jaeger itself is deployed by the Kubernetes layer; the AWS layer provides its OpenSearch domain.
    tracingStore:
      env.tracingStorage === 'opensearch'
        ? {
            highAvailability: profile.production,
            logRetentionDays: profile.logRetentionDays,
            removalPolicy: profile.logRemovalPolicy,
          }
        : undefined,
  });
  cluster.addStackDependency(network, 'the cluster runs in the network stack VPC');
  tag(cluster, naming.tags(model.name, env.name));

  const identity = identityStack(scope, model, env.name, awsEnv, profile.production);
  if (identity) {
    cluster.addStackDependency(identity, 'the gateway and the services read the issuer secret it writes');
    tag(identity, naming.tags(model.name, env.name));
  }

  const services = new Map<string, ServiceStack>();
  const eksCluster = cluster.platformCluster.cluster;
  for (const svc of model.services) {
    const stack = new ServiceStack(scope, `${prefix}-svc-${svc.name}`, {
      env: awsEnv,
      terminationProtection: profile.production,
      stackName: `${prefix}-svc-${svc.name}`,
      description: `${model.name} ${env.name}: ${svc.name} registry, data stores and workload identity`,
      platform: model.name,
      environment: env.name,
      service: svc,
      profile,
      vpc: network.vpc,
      clusterName: eksCluster.clusterName,
      clusterSecurityGroup: eksCluster.clusterSecurityGroup,
    });
    stack.addStackDependency(
      cluster,
      'Pod Identity associations and security group rules refer to the cluster',
    );
    tag(stack, naming.tags(model.name, env.name, svc.name, svc.owner));
    services.set(svc.name, stack);
  }
  const { ci, packages } = ciStack(scope, props, cluster, awsEnv, profile.production) ?? {};
  if (ci) tag(ci, naming.tags(model.name, env.name));
  if (packages) tag(packages, naming.tags(model.name, env.name));
  return { network, cluster, services, ci, packages, identity };
}

/**
 * `<platform>-<env>-identity` for `identity: { provision: cognito }`; nothing for an issuer named in
 * platform.yaml. The sign-in page returns customers to `https://<host>/` of each gateway host.
 */
function identityStack(
  scope: Construct,
  model: PlatformModel,
  environment: string,
  awsEnv: { account: string; region: string },
  production: boolean,
): IdentityStack | undefined {
  if (model.identity?.kind !== 'cognito') return undefined;
  const id = `${model.name}-${environment}-identity`;
  return new IdentityStack(scope, id, {
    env: awsEnv,
    terminationProtection: production,
    stackName: id,
    description: `${model.name} ${environment}: the customers' Cognito user pool and its token issuer`,
    identity: {
      platform: model.name,
      environment,
      production,
      callbackUrls: model.spec.gateway.hosts.map((host) => `https://${host}/`),
    },
  });
}

/**
 * The CI roles of an environment: `<platform>-<env>-ci`, after the cluster (the deploy role's access
 * entry). IAM role names and the GitHub OIDC provider are account-wide, so only the first
 * environment of an account gets one; the service image-push roles go in the first environment's
 * account, where the service workflows push (`pipelines/service-workflow.ts`).
 */
function ciStack(
  scope: Construct,
  props: PlatformEnvironmentProps,
  cluster: ClusterStack,
  awsEnv: { account: string; region: string },
  production: boolean,
): { ci: CiStack; packages?: PackagesStack } | undefined {
  const { model } = props;
  const env = model.environment(props.environment);
  const github = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(\.git)?$/.exec(model.spec.gitops.repoUrl);
  const firstInAccount = model.environments.find((e) => e.account === env.account);
  if (!github || firstInAccount?.name !== env.name) return undefined;
  const owner = github[1]!;
  const pushesImages = model.environments[0]?.name === env.name;
  const registry = model.packageRegistry;
  const packages = pushesImages
    ? new PackagesStack(scope, `${model.name}-${env.name}-packages`, {
        env: { account: registry.account, region: registry.region },
        terminationProtection: true, // the platform's published packages live here
        stackName: `${model.name}-${env.name}-packages`,
        description: `${model.name}: the npm registry (CodeArtifact) for @${registry.scope}/*`,
        platform: model.name,
      })
    : undefined;
  const stack = new CiStack(scope, `${model.name}-${env.name}-ci`, {
    env: awsEnv,
    terminationProtection: production,
    stackName: `${model.name}-${env.name}-ci`,
    description: `${model.name} ${env.name}: IAM roles the GitHub workflows assume (OIDC)`,
    platform: model.name,
    environment: env.name,
    repository: `${owner}/${github[2]!}`,
    clusterName: cluster.platformCluster.cluster.clusterName,
    registry: packages?.registry,
    services: pushesImages
      ? model.services.map((svc) => ({
          service: svc.name,
          repository: props.serviceRepositories?.[svc.name] ?? `${owner}/${svc.name}`,
          ecrRepository: naming.repository(model.name, svc.name),
        }))
      : [],
  });
  stack.addStackDependency(cluster, 'the deploy role has an access entry on the cluster');
  if (packages) stack.addStackDependency(packages, 'the release and read roles are granted the registry');
  return { ci: stack, packages };
}

/** Properties for {@link PlatformStage}. */
export type PlatformStageProps = PlatformEnvironmentProps & StageProps;

/**
 * One environment of the platform as a CDK Stage, for CDK Pipelines: the network, cluster and
 * per-service stacks of {@link createPlatformStacks}.
 *
 * The CDK app (`bin/cdk-app.ts`) calls `createPlatformStacks` on the App directly, so that
 * `cdk deploy --all -c env=prod` finds the stacks at the top level.
 */
export class PlatformStage extends Stage {
  /** The stacks of the environment. */
  public readonly stacks: PlatformStacks;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    const env = props.model.environment(props.environment);
    super(scope, id, { env: { account: env.account, region: env.region }, ...props });
    this.stacks = createPlatformStacks(this, props);
  }
}
