import { Duration, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { ADDON_CHARTS, type ChartPin } from './addon-versions.js';
import { acknowledge } from './private/acknowledge.js';
import {
  argoApplication,
  kongValues,
  loadBalancerControllerPolicy,
  nagArn,
  nagToken,
} from './private/addon-values.js';
import { PodIdentityRole } from './private/pod-identity.js';

/** Where Argo CD finds an environment's Kubernetes manifests. */
export interface GitOpsSource {
  /** Git URL of the platform repository. */
  readonly repoUrl: string;
  /** Branch, tag or commit. */
  readonly revision: string;
  /** Folder holding `<env>/k8s`, e.g. `dist`. */
  readonly path: string;
}

/** Properties for {@link ClusterAddons}. */
export interface ClusterAddonsProps {
  /** The cluster to install into. */
  readonly cluster: eks.Cluster;
  /** Platform name, for the External Secrets read scope `<platform>/<env>/*`. */
  readonly platform: string;
  /** Environment name: Argo CD syncs `<path>/<env>/k8s`. */
  readonly environment: string;
  /** The manifests Argo CD applies after the add-ons are installed. */
  readonly gitops: GitOpsSource;
  /**
   * ACM certificate that Kong's NLB terminates TLS with.
   *
   * @default - the NLB forwards TCP 443 to Kong's TLS port
   */
  readonly certificateArn?: string;
  /**
   * Namespace of Jaeger (deployed by the Kubernetes layer): istiod sends spans to
   * `naming.jaegerCollectorHost(<namespace>)` on `naming.otlpGrpcPort`.
   *
   * @default naming.defaultTracingNamespace ('observability')
   */
  readonly tracingNamespace?: string;
  /**
   * Percentage of requests traced (the platform's `mesh.tracing.sampling`). Kong gets it as
   * `tracing_sampling_rate` (`percent / 100`), with `tracing_instrumentations=all`, without which its
   * OpenTelemetry plugin emits no spans.
   *
   * @default 10
   */
  readonly tracingSamplingPercent?: number;
  /**
   * Helm `--timeout` of every release. Must stay well under the 15-minute Lambda limit of the
   * kubectl provider, or an interrupted release is left in `pending-upgrade`.
   *
   * @default Duration.minutes(10)
   */
  readonly helmTimeout?: Duration;
  /**
   * Secrets Manager name of a provisioned customer token issuer (`naming.identitySecret(platform,
   * env)`), which the gateway's edge token check reads through its own External Secrets store: a
   * role {@link naming.gatewayIdentityRole} that the controller assumes and that may read this one
   * secret. The cluster store, which reads every service's credentials, does not serve Kong's
   * namespace.
   *
   * @default - no gateway identity role (the issuer is named in platform.yaml, or there is none)
   */
  readonly gatewayIdentitySecret?: string;
  /**
   * Run two replicas of istiod, Kong and Argo CD's controllers.
   *
   * @default false
   */
  readonly highAvailability?: boolean;
}

/**
 * The cluster add-ons, installed with Helm in an explicit order:
 *
 * 1. CRDs first: Gateway API, Istio base; then the Istio CNI agent.
 * 2. istiod, then Kong in a namespace with sidecar injection, so Kong's pods get a sidecar and send
 *    traffic through the mesh (Kong's own upstream would bypass Istio).
 * 3. AWS Load Balancer Controller before Kong; Kong depends on it, so on `cdk destroy` Kong (and
 *    its NLB) is removed while the controller still runs to delete the NLB.
 * 4. External Secrets, metrics-server.
 * 5. Argo CD, and last an Argo CD `Application` that syncs `<path>/<env>/k8s`.
 *
 * Jaeger is not installed here: the Kubernetes layer (`charts/tracing-chart.ts`) owns it and Argo CD
 * applies it. istiod's `jaeger` tracing provider points at its `jaeger-collector` Service.
 *
 * @see https://docs.aws.amazon.com/eks/latest/userguide/lbc-helm.html
 * @see https://istio.io/latest/docs/setup/install/helm/
 */
export class ClusterAddons extends Construct {
  /** Every Helm release, by chart key of {@link ADDON_CHARTS}. */
  public readonly charts: Readonly<Record<keyof typeof ADDON_CHARTS, eks.HelmChart>>;
  /** The Argo CD Application of this environment. */
  public readonly application: eks.KubernetesManifest;
  /** The role External Secrets assumes to read the issuer secret for Kong, with `gatewayIdentitySecret`. */
  public readonly gatewayIdentityRole?: iam.Role;

  constructor(scope: Construct, id: string, props: ClusterAddonsProps) {
    super(scope, id);
    const timeout = props.helmTimeout ?? Duration.minutes(10);
    if (timeout.toMinutes({ integral: false }) > 12 || timeout.toSeconds() < 60) {
      throw new ValidationError(
        `'helmTimeout' must be from 1 to 12 minutes (the kubectl Lambda stops at 15), got ${timeout.toHumanString()}`,
        { path: this.node.path },
      );
    }
    const sampling = props.tracingSamplingPercent ?? 10;
    if (!(sampling >= 0 && sampling <= 100)) {
      throw new ValidationError(`'tracingSamplingPercent' must be from 0 to 100, got ${sampling}`, {
        path: this.node.path,
      });
    }
    const cluster = props.cluster;
    const replicas = props.highAvailability ? 2 : 1;
    const tracingNamespace = props.tracingNamespace ?? naming.defaultTracingNamespace;
    const stack = Stack.of(this);
    const helm = (key: keyof typeof ADDON_CHARTS, namespace: string, values: Record<string, unknown>) =>
      install(cluster, key, ADDON_CHARTS[key], namespace, values, timeout);

    const gatewayApiCrds = helm('gatewayApiCrds', 'kube-system', {
      crds: { gatewayAPI: { enabled: true, channel: 'standard' }, envoyGateway: { enabled: false } },
    });
    const istioBase = helm('istioBase', 'istio-system', { defaultRevision: 'default' });
    // With the CNI agent, injected pods need no privileged istio-init container, so namespaces can
    // enforce Pod Security baseline or restricted.
    const istioCni = helm('istioCni', 'istio-system', { cni: { chained: true } });
    istioCni.node.addDependency(istioBase);
    const istiod = helm('istiod', 'istio-system', {
      pilot: { replicaCount: replicas, autoscaleMin: replicas, cni: { enabled: true } },
      meshConfig: {
        enableTracing: true,
        extensionProviders: [
          {
            name: naming.meshTracingProvider,
            opentelemetry: {
              service: naming.jaegerCollectorHost(tracingNamespace),
              port: naming.otlpGrpcPort,
            },
          },
        ],
        defaultProviders: { tracing: [naming.meshTracingProvider] },
      },
    });
    istiod.node.addDependency(istioBase, istioCni);

    const lbcIdentity = new PodIdentityRole(this, 'LoadBalancerControllerIdentity', {
      clusterName: cluster.clusterName,
      namespace: 'kube-system',
      serviceAccount: 'aws-load-balancer-controller',
      description: 'AWS Load Balancer Controller (creates the NLB in front of Kong)',
    });
    const lbcPolicy = loadBalancerControllerPolicy(stack);
    for (const statement of lbcPolicy.statements) lbcIdentity.role.addToPolicy(statement);
    acknowledge(
      lbcIdentity.role,
      lbcPolicy.wildcardResources.map((r) => `AwsSolutions-IAM5[Resource::${r}]`),
      'this is the IAM policy the AWS Load Balancer Controller project publishes for this version: load balancers, target groups and security groups it creates have generated names, and its writes are conditioned on the elbv2.k8s.aws/cluster tag',
    );
    const awsLoadBalancerController = helm('awsLoadBalancerController', 'kube-system', {
      clusterName: cluster.clusterName,
      region: stack.region,
      vpcId: cluster.vpc.vpcId,
      replicaCount: replicas,
      serviceAccount: { create: true, name: 'aws-load-balancer-controller' },
    });
    awsLoadBalancerController.node.addDependency(lbcIdentity.association);

    const kongNamespace = cluster.addManifest('KongNamespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: naming.gatewayNamespace,
        labels: { 'istio-injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'baseline' },
      },
    });
    kongNamespace.node.addDependency(istiod);
    const kong = helm('kong', naming.gatewayNamespace, kongValues(props, replicas));
    kong.node.addDependency(kongNamespace, istiod, gatewayApiCrds, awsLoadBalancerController);

    const esoIdentity = new PodIdentityRole(this, 'ExternalSecretsIdentity', {
      clusterName: cluster.clusterName,
      namespace: 'external-secrets',
      serviceAccount: 'external-secrets',
      description: `External Secrets Operator: reads ${props.platform}/${props.environment}/* secrets`,
    });
    const secretsPrefix = `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${props.platform}/${props.environment}/*`;
    esoIdentity.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secretsPrefix],
      }),
    );
    acknowledge(
      esoIdentity.role,
      [
        `AwsSolutions-IAM5[Resource::${nagArn(stack, `secretsmanager:${nagToken(stack.region, 'AWS::Region')}:${nagToken(stack.account, 'AWS::AccountId')}:secret:${props.platform}/${props.environment}/*`)}]`,
      ],
      'External Secrets syncs the secrets of every service of this environment; the wildcard is limited to the <platform>/<env>/ name prefix, and each ExternalSecret lives in its own service namespace',
    );
    if (props.gatewayIdentitySecret) {
      this.gatewayIdentityRole = gatewayIdentityReader(
        this,
        esoIdentity.role,
        props.gatewayIdentitySecret,
        props,
      );
    }
    const externalSecrets = helm('externalSecrets', 'external-secrets', {
      installCRDs: true,
      serviceAccount: { create: true, name: 'external-secrets' },
    });
    externalSecrets.node.addDependency(esoIdentity.association);

    const metricsServer = helm('metricsServer', 'kube-system', { replicas });

    const argoCd = helm('argoCd', 'argocd', {
      controller: { replicas: 1 },
      server: { replicas },
      repoServer: { replicas },
      configs: { params: { 'server.insecure': false } },
    });
    this.application = cluster.addManifest('Application', argoApplication(props));
    // Jaeger itself is deployed by the Kubernetes layer (TracingChart), through this Application.
    this.application.node.addDependency(argoCd, kong, istiod, gatewayApiCrds, externalSecrets);

    this.charts = {
      gatewayApiCrds,
      istioBase,
      istioCni,
      istiod,
      kong,
      awsLoadBalancerController,
      externalSecrets,
      metricsServer,
      argoCd,
    };
  }
}

/** Release names that differ from the chart name (Istio's charts are called `base` and `cni`). */
const RELEASE_NAMES: Readonly<Record<string, string>> = { istioBase: 'istio-base', istioCni: 'istio-cni' };

function install(
  cluster: eks.Cluster,
  key: string,
  pin: ChartPin,
  namespace: string,
  values: Record<string, unknown>,
  timeout: Duration,
): eks.HelmChart {
  const id = key.charAt(0).toUpperCase() + key.slice(1);
  return cluster.addHelmChart(id, {
    repository: pin.repository,
    chart: pin.chart,
    version: pin.version,
    release: RELEASE_NAMES[key] ?? pin.chart,
    namespace,
    createNamespace: true,
    values,
    wait: true,
    timeout,
  });
}

/**
 * The role behind the gateway's `SecretStore` (`charts/secret-store-chart.ts`): External Secrets'
 * own role may assume it, and it may read exactly the issuer secret, `<name>-??????` being how an
 * ARN names one secret by name (Secrets Manager appends six random characters). The trust allows
 * `sts:TagSession` because EKS Pod Identity's session tags are transitive: they pass along every
 * role chained from the controller's session.
 *
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/
 */
function gatewayIdentityReader(
  scope: Construct,
  controllerRole: iam.Role,
  secretName: string,
  props: ClusterAddonsProps,
): iam.Role {
  const roleName = naming.gatewayIdentityRole(props.platform, props.environment);
  if (roleName.length > 64) {
    throw new ValidationError(
      `'gatewayIdentitySecret': the gateway's identity role '${roleName}' is ${roleName.length} characters, IAM allows 64; shorten the platform or environment name`,
      { path: scope.node.path },
    );
  }
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'GatewayIdentityReader', {
    roleName,
    description: `External Secrets, for Kong's namespace: reads the customer token issuer secret ${secretName} only`,
    assumedBy: new iam.ArnPrincipal(controllerRole.roleArn).withSessionTags(),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [
        `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${secretName}-??????`,
      ],
    }),
  );
  controllerRole.addToPolicy(
    new iam.PolicyStatement({ actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [role.roleArn] }),
  );
  return role;
}
