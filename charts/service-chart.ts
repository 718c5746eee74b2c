import { ApiObject, Chart, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { peerUrlVariable } from '../model/cross-checks.js';
import type { MeshOperation } from '../model/mesh-plan.js';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import type { TierPolicy } from '../model/schema.js';
import { ValidationError } from '../model/validation-error.js';
import { APP_LABEL, MESH_NAMESPACE_LABELS, PSS_RESTRICTED_LABELS } from './private/labels.js';
import { addRestrictedSeccomp, restrictedSecurityContexts } from './private/pod-security.js';
import { parseCpu, parseMemory } from './private/quantities.js';
import { ServiceCredentials } from './service-credentials.js';
import { ServiceMeshPolicy } from './service-mesh-policy.js';
import { TOKEN_ISSUER_ENV, TokenIssuer, type TokenIssuerValues } from './token-issuer.js';

/** CPU and memory of the service container. */
export interface ServiceResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Mesh policy to emit with the service when no platform `MeshChart` does it. */
export interface ServiceMeshOptions {
  /** Timeout, retries and circuit breaking. */
  readonly tierPolicy: TierPolicy;
  /** By calling service: the operations it may call (methods and OpenAPI paths). @default - none */
  readonly callers?: Readonly<Record<string, readonly MeshOperation[]>>;
  /** The public operations the gateway (Kong) may call. @default - none: Kong is denied */
  readonly gatewayOperations?: readonly MeshOperation[];
}

/**
 * Props of a {@link ServiceChart}. Only `name` and `image` are required, so a service repo's
 * `deploy/` app can use it without platform.yaml.
 */
export interface ServiceChartProps {
  /** Service name (a DNS label). Namespace, ServiceAccount and labels derive from it. */
  readonly name: string;
  /** Full image reference with a pinned tag (never `latest`), e.g. from `naming.image(...)`. */
  readonly image: string;
  /** Container port the service listens on. @default 8080 */
  readonly port?: number;
  /** HPA bounds. @default { min: 2, max: 4 } */
  readonly replicas?: { readonly min: number; readonly max: number };
  /** Requests and limits. @default - requests 100m/128Mi, limits 500m/256Mi */
  readonly resources?: ServiceResources;
  /** Average CPU utilization the HPA aims for, in percent. @default 70 */
  readonly targetCpuUtilization?: number;
  /** Wire `DATABASE_URL` from `databaseSecretName`. @default false */
  readonly database?: boolean;
  /** Wire `REDIS_URL` from `cacheSecretName`. @default false */
  readonly cache?: boolean;
  /** Secrets Manager name of the database credentials. @default - required when `database` is true */
  readonly databaseSecretName?: string;
  /** Secrets Manager name of the Redis credentials. @default - required when `cache` is true */
  readonly cacheSecretName?: string;
  /**
   * The customer token issuer the kit checks tokens against: `AUTH_ISSUER`, `AUTH_AUDIENCE`,
   * `AUTH_JWKS_URI`, as values or from a provisioned issuer's secret.
   *
   * @default - none: no AUTH_* variables
   */
  readonly tokenIssuer?: TokenIssuer;
  /** The `ClusterSecretStore` the ExternalSecrets read from. @default 'aws-secrets-manager' */
  readonly secretStoreName?: string;
  /**
   * Peer services this one calls: each gets a `<PEER>_URL` variable; `monolith` (the legacy
   * monolith, `naming.monolithService`) gets `MONOLITH_URL`, {@link monolithUrl}. @default []
   */
  readonly calls?: readonly string[];
  /**
   * The legacy monolith's URL inside the cluster, for a `calls` entry `monolith`
   * (`naming.monolithUrl`: its ExternalName Service over HTTP, its own host over HTTPS).
   * @default - `http://` its ExternalName Service (`monolith.legacy`) on port 8080
   */
  readonly monolithUrl?: string;
  /** Extra non-secret environment variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Owning team, as the `owner` label. @default - no owner label */
  readonly owner?: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP over HTTP). @default - the Jaeger collector in `observability` */
  readonly otlpEndpoint?: string;
  /** Namespace. @default naming.namespace(name) */
  readonly namespace?: string;
  /** ServiceAccount, matching the Pod Identity association. @default naming.serviceAccount(name) */
  readonly serviceAccountName?: string;
  /** UID and GID the container runs as (the Node image's `node` user). @default 1000 */
  readonly runAsUser?: number;
  /** Liveness probe path. @default '/healthz' */
  readonly livenessPath?: string;
  /** Readiness probe path. @default '/readyz' */
  readonly readinessPath?: string;
  /** Emit the service's DestinationRule, VirtualService and AuthorizationPolicies here. @default - none: the platform's MeshChart owns them */
  readonly mesh?: ServiceMeshOptions;
  /** Extra labels on every object. @default - platform/env/owner labels only */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The port every service's Kubernetes Service exposes, so peer URLs need no port. */
export const SERVICE_PORT = 80;

/**
 * One service's workload: Namespace (sidecar injection, PSS restricted), ServiceAccount,
 * Deployment (probes, requests/limits, restricted securityContext, zone spread), Service, HPA,
 * PodDisruptionBudget and the ExternalSecrets behind `DATABASE_URL` / `REDIS_URL`.
 *
 * @example
 * new ServiceChart(app, 'svc', { name: 'review', image: '1111.dkr.ecr.../allinone/review:1.2.0' });
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export class ServiceChart extends Chart {
  /**
   * Props for `service` in `env`, from the platform model: names from `naming`, secrets,
   * `<PEER>_URL`s from `peerUrlVariables`, the image with the service's `imageTag`.
   */
  public static propsFromModel(
    model: PlatformModel,
    envName: string,
    serviceName: string,
  ): ServiceChartProps {
    const env = model.environment(envName);
    const svc = model.service(serviceName);
    return {
      name: svc.name,
      image: naming.image(model.name, env, svc.name, svc.imageTag),
      port: svc.port,
      replicas: svc.replicas,
      resources: svc.resources,
      database: svc.database === 'postgres',
      cache: svc.cache === 'redis',
      databaseSecretName: naming.databaseSecret(model.name, env.name, svc.name),
      cacheSecretName: naming.cacheSecret(model.name, env.name, svc.name),
      calls: Object.values(svc.peerUrlVariables),
      monolithUrl: naming.monolithUrl(model.spec.legacy.monolith),
      env: svc.env,
      owner: svc.owner,
      otlpEndpoint: naming.otlpHttpEndpoint(model.spec.tracing.namespace),
      labels: naming.tags(model.name, env.name),
      tokenIssuer: tokenIssuerOf(model, env.name),
    };
  }

  /** The service name. */
  public readonly serviceName: string;
  /** The namespace everything is in. */
  public readonly namespaceName: string;
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    const name = props.name;
    const ns = props.namespace ?? naming.namespace(name);
    const labels = { ...props.labels, ...(props.owner ? { owner: props.owner } : {}), service: name };
    super(scope, id, { labels });
    const port = props.port ?? 8080;
    const replicas = props.replicas ?? { min: 2, max: 4 };
    const resources = props.resources ?? {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    };
    const user = props.runAsUser ?? 1000;
    checkImage(props.image);
    if (replicas.min > replicas.max) {
      throw new ValidationError(
        `'replicas.min' (${replicas.min}) must not exceed 'replicas.max' (${replicas.max})`,
      );
    }
    if (props.database && !props.databaseSecretName) {
      throw new ValidationError("'databaseSecretName' is required when 'database' is true");
    }
    if (props.cache && !props.cacheSecretName) {
      throw new ValidationError("'cacheSecretName' is required when 'cache' is true");
    }
    this.serviceName = name;
    this.namespaceName = ns;

    new kplus.Namespace(this, 'Namespace', {
      metadata: { name: ns, labels: { ...MESH_NAMESPACE_LABELS, ...PSS_RESTRICTED_LABELS } },
    });
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: props.serviceAccountName ?? naming.serviceAccount(name), namespace: ns },
      automountToken: false,
    });
    const credentials = new ServiceCredentials(this, 'Credentials', {
      service: name,
      namespace: ns,
      secretStoreName: props.secretStoreName ?? 'aws-secrets-manager',
      databaseSecretName: props.database ? props.databaseSecretName : undefined,
      cacheSecretName: props.cache ? props.cacheSecretName : undefined,
      identitySecretName: props.tokenIssuer?.secretName,
    });

    const envVariables: Record<string, kplus.EnvValue> = {};
    for (const [k, v] of Object.entries(props.env ?? {})) envVariables[k] = kplus.EnvValue.fromValue(v);
    envVariables.PORT = kplus.EnvValue.fromValue(String(port));
    for (const peer of props.calls ?? []) {
      const url =
        peer === naming.monolithService
          ? (props.monolithUrl ?? naming.monolithUrl({ host: naming.monolithService, port: 8080 }))
          : `http://${naming.serviceHost(peer)}`;
      envVariables[peerUrlVariable(peer)] = kplus.EnvValue.fromValue(url);
    }
    for (const [variable, ref] of [
      ['DATABASE_URL', credentials.databaseUrl],
      ['REDIS_URL', credentials.redisUrl],
    ] as const) {
      if (!ref) continue;
      const secret = kplus.Secret.fromSecretName(this, `${variable}Secret`, ref.secretName);
      envVariables[variable] = kplus.EnvValue.fromSecretValue({ secret, key: ref.key });
    }
    for (const [field, variable] of Object.entries(TOKEN_ISSUER_ENV) as [keyof TokenIssuerValues, string][]) {
      const values = props.tokenIssuer?.values;
      if (values) envVariables[variable] = kplus.EnvValue.fromValue(values[field]);
      if (credentials.identitySecret) {
        const secret = kplus.Secret.fromSecretName(this, `${variable}Secret`, credentials.identitySecret);
        envVariables[variable] = kplus.EnvValue.fromSecretValue({ secret, key: variable });
      }
    }
    envVariables.OTEL_SERVICE_NAME = kplus.EnvValue.fromValue(name);
    envVariables.OTEL_EXPORTER_OTLP_ENDPOINT = kplus.EnvValue.fromValue(
      props.otlpEndpoint ?? naming.otlpHttpEndpoint(naming.defaultTracingNamespace),
    );

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');
    const security = restrictedSecurityContexts(user);
    const probe = (path: string) =>
      kplus.Probe.fromHttpGet(path, { port, periodSeconds: Duration.seconds(10), failureThreshold: 3 });
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, namespace: ns },
      select: false,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: security.pod,
      podMetadata: {
        labels: { [APP_LABEL]: name, app: name },
        // Istio's metrics merging reads these, rewrites them to its agent (15020) and scrapes the
        // app's /metrics over localhost: Prometheus never calls the operator endpoint through the mesh
        annotations: {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(port),
          'prometheus.io/path': '/metrics',
        },
      },
      containers: [
        {
          name,
          image: props.image,
          portNumber: port,
          envVariables,
          resources: {
            cpu: {
              request: parseCpu(resources.requests.cpu, 'resources.requests.cpu'),
              limit: parseCpu(resources.limits.cpu, 'resources.limits.cpu'),
            },
            memory: {
              request: parseMemory(resources.requests.memory, 'resources.requests.memory'),
              limit: parseMemory(resources.limits.memory, 'resources.limits.memory'),
            },
          },
          liveness: probe(props.livenessPath ?? '/healthz'),
          readiness: probe(props.readinessPath ?? '/readyz'),
          securityContext: security.container,
          volumeMounts: [{ path: '/tmp', volume: tmp }],
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: { [APP_LABEL]: name } }));
    const selector = { matchLabels: { [APP_LABEL]: name } };
    addRestrictedSeccomp(this.deployment);
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: selector,
        },
      ]),
    );

    this.service = new kplus.Service(this, 'Service', {
      metadata: {
        name,
        namespace: ns,
        // Kong sends traffic to the Service (not pod IPs), so Istio's policy applies to it.
        annotations: { 'konghq.com/service-upstream': 'true' },
      },
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: port }],
    });
    this.service.selectLabel(APP_LABEL, name);
    ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', 'http'));

    new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name, namespace: ns },
      target: this.deployment,
      minReplicas: replicas.min,
      maxReplicas: replicas.max,
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(props.targetCpuUtilization ?? 70)),
      ],
    });
    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, namespace: ns },
      spec: {
        // One replica may always go; with a single replica, a drain must not be blocked forever.
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector,
      },
    });

    if (props.mesh) {
      new ServiceMeshPolicy(this, 'Mesh', {
        service: name,
        namespace: ns,
        tierPolicy: props.mesh.tierPolicy,
        callers: props.mesh.callers,
        gatewayOperations: props.mesh.gatewayOperations,
      });
    }
  }
}

function checkImage(image: string): void {
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.replace(/@sha256:[0-9a-f]{64}$/, ''))?.[1];
  if (!image.includes('@sha256:') && (!tag || tag === 'latest')) {
    throw new ValidationError(`'image' must have a pinned tag (not 'latest'), got '${image}'`);
  }
}

/**
 * The token issuer the services of `envName` check: the one platform.yaml names, or the Cognito
 * user pool's secret that the AWS layer writes (`constructs/customer-identity.ts`).
 */
function tokenIssuerOf(model: PlatformModel, envName: string): TokenIssuer | undefined {
  const identity = model.identity;
  if (!identity) return undefined;
  if (identity.kind === 'cognito') return TokenIssuer.fromSecret(naming.identitySecret(model.name, envName));
  return TokenIssuer.of({ issuer: identity.issuer, audience: identity.audience, jwksUri: identity.jwksUri });
}
