import { Chart, Size, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { ValidationError } from '../model/validation-error.js';
import { ExternalSecret } from './crds/external-secrets.js';
import { AuthorizationPolicy } from './crds/istio-security.js';
import { APP_LABEL, MESH_NAMESPACE_LABELS, PSS_RESTRICTED_LABELS } from './private/labels.js';
import { addRestrictedSeccomp, restrictedSecurityContexts } from './private/pod-security.js';

/** Where Jaeger keeps spans. */
export type TracingStorage = 'memory' | 'badger' | 'opensearch';

/** Props of a {@link TracingChart}. */
export interface TracingChartProps extends ChartProps {
  /** Namespace of Jaeger. @default naming.defaultTracingNamespace ('observability') */
  readonly tracingNamespace?: string;
  /** Span storage: `memory`/`badger` run one all-in-one pod; `opensearch` runs collector and query apart. @default 'badger' */
  readonly storage?: TracingStorage;
  /** Jaeger v1 image tag. @default '1.74.0' */
  readonly jaegerVersion?: string;
  /** Secrets Manager secret with the OpenSearch `url`, `username`, `password`. @default - required for `opensearch` */
  readonly opensearchSecretName?: string;
  /**
   * Keep badger on a PersistentVolumeClaim. That needs a storage class (the EBS CSI driver), which
   * the cluster does not have yet, so by default badger writes to an emptyDir: spans survive a
   * container restart but not a rescheduled pod.
   *
   * @default false
   */
  readonly badgerPersistentVolume?: boolean;
  /** Size of the badger volume. @default Size.gibibytes(10) */
  readonly badgerVolumeSize?: Size;
  /** Collector replicas (opensearch only). @default 2 */
  readonly collectorReplicas?: number;
  /** The `ClusterSecretStore` for the OpenSearch credentials. @default 'aws-secrets-manager' */
  readonly secretStoreName?: string;
}

const JAEGER_UID = 10001;
const COLLECTOR_PORTS: { name: string; port: number; appProtocol: string }[] = [
  { name: 'otlp-grpc', port: naming.otlpGrpcPort, appProtocol: 'grpc' },
  { name: 'otlp-http', port: naming.otlpHttpPort, appProtocol: 'http' },
];

/**
 * Jaeger: the collector (OTLP gRPC 4317 and HTTP 4318) and the query UI (16686), as the Services
 * `jaeger-collector` and `jaeger-query`. Storage per environment: dev keeps spans in memory or in
 * badger in a single all-in-one pod (cheap; a volume only with `badgerPersistentVolume`); prod writes to
 * OpenSearch with separately scaled collector and query Deployments.
 *
 * @see https://www.jaegertracing.io/docs/latest/deployment/
 */
export class TracingChart extends Chart {
  /** Props from the platform model for `envName` (storage from the env's `tracingStorage`). */
  public static propsFromModel(model: PlatformModel, envName: string): TracingChartProps {
    const env = model.environment(envName);
    return {
      tracingNamespace: model.spec.tracing.namespace,
      storage: env.tracingStorage,
      opensearchSecretName: naming.tracingStoreSecret(model.name, env.name),
    };
  }

  /** The storage in use. */
  public readonly storage: TracingStorage;

  constructor(scope: Construct, id: string, props: TracingChartProps = {}) {
    super(scope, id, props);
    const ns = props.tracingNamespace ?? naming.defaultTracingNamespace;
    const storage = props.storage ?? 'badger';
    const version = props.jaegerVersion ?? '1.74.0';
    this.storage = storage;
    if (storage === 'opensearch' && !props.opensearchSecretName) {
      throw new ValidationError("'opensearchSecretName' is required when 'storage' is 'opensearch'");
    }

    new kplus.Namespace(this, 'Namespace', {
      metadata: { name: ns, labels: { ...MESH_NAMESPACE_LABELS, ...PSS_RESTRICTED_LABELS } },
    });
    new AuthorizationPolicy(this, 'DenyAll', { metadata: { name: 'default-deny', namespace: ns }, spec: {} });
    // Every workload in the mesh (sidecars, services, Kong) may send spans; nothing else gets in.
    new AuthorizationPolicy(this, 'AllowSpans', {
      metadata: { name: 'jaeger-allow-otlp', namespace: ns },
      spec: {
        action: 'ALLOW',
        rules: [
          {
            from: [{ source: { principals: ['*'] } }],
            to: [{ operation: { ports: COLLECTOR_PORTS.map((p) => String(p.port)) } }],
          },
        ],
      },
    });

    if (storage === 'opensearch') {
      const secretName = 'jaeger-opensearch';
      new ExternalSecret(this, 'OpenSearchCredentials', {
        metadata: { name: secretName, namespace: ns },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: {
            kind: 'ClusterSecretStore',
            name: props.secretStoreName ?? 'aws-secrets-manager',
          },
          target: { name: secretName, creationPolicy: 'Owner' },
          dataFrom: [{ extract: { key: props.opensearchSecretName! } }],
        },
      });
      const secret = kplus.Secret.fromSecretName(this, 'OpenSearchSecret', secretName);
      const env = {
        SPAN_STORAGE_TYPE: kplus.EnvValue.fromValue('opensearch'),
        ES_SERVER_URLS: kplus.EnvValue.fromSecretValue({ secret, key: 'url' }),
        ES_USERNAME: kplus.EnvValue.fromSecretValue({ secret, key: 'username' }),
        ES_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }),
      };
      const collector = this.jaeger(
        'Collector',
        ns,
        naming.jaegerCollectorService,
        `jaegertracing/jaeger-collector:${version}`,
        {
          env,
          ports: [naming.otlpGrpcPort, naming.otlpHttpPort],
          adminPort: 14269,
          replicas: props.collectorReplicas ?? 2,
        },
      );
      const query = this.jaeger('Query', ns, 'jaeger-query', `jaegertracing/jaeger-query:${version}`, {
        env,
        ports: [16686],
        adminPort: 16687,
        replicas: 1,
      });
      this.services(ns, collector, query);
    } else {
      const env: Record<string, kplus.EnvValue> = { SPAN_STORAGE_TYPE: kplus.EnvValue.fromValue(storage) };
      let volume: kplus.Volume | undefined;
      if (storage === 'badger') {
        Object.assign(env, {
          BADGER_EPHEMERAL: kplus.EnvValue.fromValue('false'),
          BADGER_DIRECTORY_KEY: kplus.EnvValue.fromValue('/badger/key'),
          BADGER_DIRECTORY_VALUE: kplus.EnvValue.fromValue('/badger/data'),
        });
        if (props.badgerPersistentVolume) {
          const claim = new kplus.PersistentVolumeClaim(this, 'BadgerVolume', {
            metadata: { name: 'jaeger-badger', namespace: ns },
            storage: props.badgerVolumeSize ?? Size.gibibytes(10),
            accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
          });
          volume = kplus.Volume.fromPersistentVolumeClaim(this, 'Badger', claim);
        } else {
          volume = kplus.Volume.fromEmptyDir(this, 'Badger', 'badger', {
            sizeLimit: props.badgerVolumeSize ?? Size.gibibytes(10),
          });
        }
      } else {
        env.MEMORY_MAX_TRACES = kplus.EnvValue.fromValue('50000');
      }
      const allInOne = this.jaeger('AllInOne', ns, 'jaeger', `jaegertracing/all-in-one:${version}`, {
        env,
        ports: [naming.otlpGrpcPort, naming.otlpHttpPort, 16686],
        adminPort: 14269,
        replicas: 1,
        volume,
      });
      this.services(ns, allInOne, allInOne);
    }
  }

  private jaeger(
    id: string,
    namespace: string,
    name: string,
    image: string,
    opts: {
      env: Record<string, kplus.EnvValue>;
      ports: number[];
      adminPort: number;
      replicas: number;
      volume?: kplus.Volume;
    },
  ): kplus.Deployment {
    const health = () => kplus.Probe.fromHttpGet('/', { port: opts.adminPort });
    const tmp = kplus.Volume.fromEmptyDir(this, `${id}Tmp`, 'tmp');
    const security = restrictedSecurityContexts(JAEGER_UID);
    const deployment = new kplus.Deployment(this, id, {
      metadata: { name, namespace },
      replicas: opts.replicas,
      select: false,
      automountServiceAccountToken: false,
      securityContext: security.pod,
      podMetadata: { labels: { [APP_LABEL]: name } },
      // A single badger pod must stop before the next one opens the volume.
      ...(opts.volume ? { strategy: kplus.DeploymentStrategy.recreate() } : {}),
      containers: [
        {
          name: 'jaeger',
          image,
          ports: [...opts.ports, opts.adminPort].map((number) => ({ number })),
          envVariables: opts.env,
          resources: {
            cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(1000) },
            memory: { request: Size.mebibytes(256), limit: Size.mebibytes(1024) },
          },
          liveness: health(),
          readiness: health(),
          securityContext: security.container,
          volumeMounts: [
            { path: '/tmp', volume: tmp },
            ...(opts.volume ? [{ path: '/badger', volume: opts.volume }] : []),
          ],
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: { [APP_LABEL]: name } }));
    addRestrictedSeccomp(deployment);
    return deployment;
  }

  private services(namespace: string, collector: kplus.Deployment, query: kplus.Deployment): void {
    const service = (id: string, name: string, target: kplus.Deployment, ports: typeof COLLECTOR_PORTS) => {
      new kplus.k8s.KubeService(this, id, {
        metadata: { name, namespace },
        spec: {
          selector: { [APP_LABEL]: target.name },
          ports: ports.map((p) => ({ ...p, targetPort: kplus.k8s.IntOrString.fromNumber(p.port) })),
        },
      });
    };
    service('CollectorService', naming.jaegerCollectorService, collector, COLLECTOR_PORTS);
    service('QueryService', 'jaeger-query', query, [
      { name: 'http-query', port: 16686, appProtocol: 'http' },
    ]);
  }
}
