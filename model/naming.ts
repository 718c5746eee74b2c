/**
 * Names that several layers must agree on. The AWS layer creates the secret, repository and
 * Pod Identity association; the Kubernetes layer refers to them. Change them only here.
 */
export const naming = {
  /** Kubernetes namespace of a service: one namespace per service. */
  namespace: (service: string): string => service,
  /** Kubernetes ServiceAccount of a service (matches its Pod Identity association). */
  serviceAccount: (service: string): string => service,
  /** ECR repository name of a service. */
  repository: (platform: string, service: string): string => `${platform}/${service}`,
  /** Full image reference for a service in an environment. */
  image: (platform: string, env: { account: string; region: string }, service: string, tag: string): string =>
    `${env.account}.dkr.ecr.${env.region}.amazonaws.com/${platform}/${service}:${tag}`,
  /**
   * Secrets Manager name of a service's database credentials (JSON: `username`, `password`, `dbname`,
   * `host`, `port`, plus `engine` and `dbClusterIdentifier`). `charts/service-credentials.ts` reads
   * `username`, `password`, `host`, `port`, `dbname`.
   */
  databaseSecret: (platform: string, env: string, service: string): string =>
    `${platform}/${env}/${service}/database`,
  /**
   * Secrets Manager name of a service's Redis credentials (JSON: `host`, `port`, `tls`, `password`,
   * the password being the ElastiCache AUTH token). `charts/service-credentials.ts` reads `password`,
   * `host`, `port`.
   */
  cacheSecret: (platform: string, env: string, service: string): string =>
    `${platform}/${env}/${service}/redis`,
  /**
   * Secrets Manager name of the OpenSearch connection Jaeger uses (`tracingStorage: opensearch`).
   * JSON: `url` (`https://<endpoint>:443`), `username`, `password`. Created by the AWS layer
   * (`constructs/tracing-store.ts`), read by the Kubernetes layer (`charts/tracing-chart.ts`).
   */
  tracingStoreSecret: (platform: string, env: string): string => `${platform}/${env}/tracing/opensearch`,
  /**
   * Secrets Manager name of the customer token issuer that the platform provisions
   * (`identity: { provision: cognito }`). JSON: `issuer`, `audience`, `jwksUri`: what the gateway's
   * token check and the kit's `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URI` read. Created by the AWS
   * layer (`constructs/customer-identity.ts`); none of its values is secret, it is a secret so that
   * External Secrets can deliver it like every other value the pods read.
   */
  identitySecret: (platform: string, env: string): string => `${platform}/${env}/identity`,
  /** Database name inside a service's own cluster. */
  databaseName: (service: string): string => service.replace(/-/g, '_'),
  /** In-cluster DNS name of the Kubernetes Service `name` in `namespace`. */
  clusterHost: (name: string, namespace: string): string => `${name}.${namespace}.svc.cluster.local`,
  /** In-cluster DNS name of a service's Kubernetes Service (in its own namespace). */
  serviceHost: (service: string): string => naming.clusterHost(service, naming.namespace(service)),
  /** Namespace of the gateway (Kong). */
  gatewayNamespace: 'kong',
  /** Kong's ServiceAccount: its identity in Istio AuthorizationPolicies. */
  gatewayServiceAccount: 'kong-gateway',
  /**
   * The External Secrets `SecretStore` in Kong's namespace that serves the provisioned issuer's
   * secret (`identitySecret`) and nothing else: written by `charts/secret-store-chart.ts`, read by
   * the edge token check's ExternalSecret (`charts/edge-token.ts`).
   */
  gatewayIdentityStore: 'aws-secrets-manager-identity',
  /**
   * IAM role that the External Secrets controller assumes for {@link naming.gatewayIdentityStore}:
   * it may read the issuer secret only. Created by the AWS layer (`constructs/cluster-addons.ts`),
   * named by the Kubernetes layer's store, so its name is fixed (at most 64 characters).
   */
  gatewayIdentityRole: (platform: string, env: string): string =>
    `${platform}-${env}-gateway-identity-reader`,
  /**
   * An IAM role ARN in the partition of `region`, for text that no CloudFormation pseudo parameter
   * resolves (manifests, workflows).
   */
  iamRoleArn: (account: string, region: string, name: string): string => {
    const partition = region.startsWith('cn-') ? 'aws-cn' : region.includes('-gov-') ? 'aws-us-gov' : 'aws';
    return `arn:${partition}:iam::${account}:role/${name}`;
  },
  /**
   * Globals beyond Kong's PDK that the gateway's cohort function (`charts/edge-cohort.ts`) uses:
   * Kong runs serverless code in its Lua sandbox, and the AWS layer lists these in Kong's
   * `untrusted_lua_sandbox_environment`.
   */
  gatewayLuaSandboxGlobals: [
    'ngx.var',
    'ngx.re.find',
    'ngx.crc32_long',
    'ngx.decode_base64',
  ] as readonly string[],
  /**
   * Modules the gateway's Lua (the cohort function, the customer-claims check of
   * `charts/edge-token.ts`) requires: listed in Kong's `untrusted_lua_sandbox_requires`.
   */
  gatewayLuaSandboxRequires: ['cjson.safe'] as readonly string[],
  /** Istio's namespace (istiod, and the root namespace of mesh-wide policies). */
  istioNamespace: 'istio-system',
  /**
   * The VPC's CIDR when the network stack is not given one: `constructs/platform-network.ts`
   * creates the VPC with it, and `charts/network-policy-chart.ts` allows egress to the data stores
   * and AWS endpoints inside it.
   */
  defaultVpcCidr: '10.0.0.0/16',
  /** The port every service's Aurora cluster listens on (`constructs/service-database.ts`). */
  databasePort: 5432,
  /**
   * The port every service's Valkey cache listens on, not the default 6379 (AwsSolutions-AEC5):
   * `constructs/service-cache.ts` opens it, the NetworkPolicies allow egress to it.
   */
  cachePort: 6380,
  /**
   * Namespace of the Prometheus that scrapes the workloads (Istio's merged metrics on the agent's
   * port 15020): the service NetworkPolicies admit it there and nowhere else.
   */
  metricsNamespace: 'monitoring',
  /**
   * Namespace and Service name that stand for the legacy monolith inside the cluster. A service's
   * `calls` may name `monolith` (when no service has that name): it gets `MONOLITH_URL`
   * ({@link naming.monolithUrl}) and egress to `legacy.monolith.port`; the monolith is outside the
   * mesh, so no AuthorizationPolicy of ours guards it (docs/k8s-layer.md follows the whole call).
   */
  monolithNamespace: 'legacy',
  /**
   * The legacy monolith's URL inside the cluster, as `MONOLITH_URL` (services that call it, the
   * shadow comparer). Over plain HTTP: its ExternalName Service (`monolith.legacy`), which Istio
   * (1.21 and later) treats as an alias of the gateway's `MESH_EXTERNAL` ServiceEntry for
   * `legacy.monolith.host`. Over HTTPS: that host itself, the name the monolith's certificate
   * carries; a client that asked for `monolith.legacy.svc.cluster.local` would send that name as
   * SNI and reject the certificate, and the ServiceEntry's TLS port matches on the real name.
   *
   * @see https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/#externalname-support-changes
   */
  monolithUrl: (monolith: {
    readonly host: string;
    readonly port: number;
    readonly protocol?: 'http' | 'https';
  }): string =>
    monolith.protocol === 'https'
      ? `https://${monolith.host}:${monolith.port}`
      : `http://${naming.clusterHost(naming.monolithService, naming.monolithNamespace)}:${monolith.port}`,
  monolithService: 'monolith',
  /** Namespace of Jaeger when platform.yaml's `tracing.namespace` does not name one. */
  defaultTracingNamespace: 'observability',
  /**
   * The Jaeger collector's Service (`charts/tracing-chart.ts` creates it in every environment) and
   * its OTLP ports. Istio's tracing provider (`constructs/cluster-addons.ts`), the services and Kong
   * send spans there.
   */
  jaegerCollectorService: 'jaeger-collector',
  otlpGrpcPort: 4317,
  otlpHttpPort: 4318,
  /** In-cluster DNS name of the Jaeger collector in the tracing namespace. */
  jaegerCollectorHost: (tracingNamespace: string): string =>
    naming.clusterHost(naming.jaegerCollectorService, tracingNamespace),
  /** Namespace and Service name of the shadow comparer (`aio route --shadow`). */
  shadowComparerNamespace: 'shadow-compare',
  shadowComparerService: 'shadow-compare',
  /** The OTLP endpoints of the Jaeger collector, in the tracing namespace. */
  otlpGrpcEndpoint: (tracingNamespace: string): string =>
    `http://${naming.jaegerCollectorHost(tracingNamespace)}:${naming.otlpGrpcPort}`,
  otlpHttpEndpoint: (tracingNamespace: string): string =>
    `http://${naming.jaegerCollectorHost(tracingNamespace)}:${naming.otlpHttpPort}`,
  /**
   * Name of the tracing extension provider in Istio's mesh config: declared by
   * `constructs/cluster-addons.ts`, referred to by the `Telemetry` of `charts/mesh-chart.ts`.
   */
  meshTracingProvider: 'jaeger',
  /** IAM role that `cdk diff` in the platform repo's pull requests assumes (GitHub OIDC), per account. */
  githubDiffRole: (platform: string): string => `${platform}-github-diff`,
  /** IAM role that the platform repo's deploy jobs assume (GitHub OIDC), per account. */
  githubDeployRole: (platform: string): string => `${platform}-github-deploy`,
  /** IAM role that a service repo's `ci.yml` assumes to push its image (GitHub OIDC). */
  serviceCiRole: (platform: string, service: string): string => `${platform}-${service}-ci`,
  /** IAM role that the platform repo's release workflow assumes to publish `@aio/*` (GitHub OIDC). */
  githubReleaseRole: (platform: string): string => `${platform}-github-release`,
  /** The platform repo's GitHub environment whose jobs may publish packages (and assume that role). */
  releaseEnvironment: 'release',
  /** IAM role that service repos' CI jobs (pull requests included) assume to install `@aio/*`. */
  packagesReadRole: (platform: string): string => `${platform}-packages-read`,
  /** CodeArtifact domain of the platform's npm registry (`constructs/package-registry.ts`). */
  packageDomain: (platform: string): string => platform,
  /** CodeArtifact npm repository in that domain: `@aio/*`, with npmjs.org as its upstream. */
  packageRepository: 'npm',
  /**
   * The npm registry URL of a CodeArtifact repository, for `.npmrc` (`@aio:registry=<url>`).
   * `urlSuffix` is `amazonaws.com`, or `amazonaws.com.cn` in the China regions (the default
   * follows the region; the construct passes the stack's `Aws.URL_SUFFIX`).
   *
   * @see https://docs.aws.amazon.com/codeartifact/latest/ug/npm-auth.html
   */
  npmRegistryUrl: (
    registry: { domain: string; repository: string },
    env: { account: string; region: string; urlSuffix?: string },
  ): string =>
    `https://${registry.domain}-${env.account}.d.codeartifact.${env.region}.` +
    `${env.urlSuffix ?? (env.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com')}/npm/${registry.repository}/`,
  /** Common tags / labels for cost allocation. */
  tags: (platform: string, env: string, service?: string, owner?: string): Record<string, string> => ({
    platform,
    env,
    ...(service ? { service } : {}),
    ...(owner ? { owner } : {}),
  }),
} as const;
