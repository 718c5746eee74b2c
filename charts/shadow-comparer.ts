import { ApiObject, Chart, Duration, JsonPatch, Size, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { peerUrlVariable } from '../model/cross-checks.js';
import { naming } from '../model/naming.js';
import type { PlatformModel, ShadowRoute } from '../model/platform-model.js';
import { ValidationError } from '../model/validation-error.js';
import { AuthorizationPolicy } from './crds/istio-security.js';
import { APP_LABEL, MESH_NAMESPACE_LABELS, PSS_RESTRICTED_LABELS } from './private/labels.js';
import { addRestrictedSeccomp, restrictedSecurityContexts } from './private/pod-security.js';
import { SERVICE_PORT } from './service-chart.js';

/** Port the comparer's container listens on (its Service exposes {@link SHADOW_COMPARER_SERVICE_PORT}). */
export const SHADOW_COMPARER_CONTAINER_PORT = 8080;
/** Port of the comparer's Service: the port the monolith's VirtualService mirrors to. */
export const SHADOW_COMPARER_SERVICE_PORT = SERVICE_PORT;
/** Where the routes ConfigMap is mounted, and the file the comparer reads (`AIO_SHADOW_ROUTES`). */
export const SHADOW_ROUTES_DIR = '/etc/aio-shadow';
export const SHADOW_ROUTES_FILE = 'routes.json';

/** One shadowed service, as the comparer calls it. */
export interface ShadowedService {
  /** The service name (its namespace and ServiceAccount follow `naming`). */
  readonly name: string;
  /** The prefixes it serves the shadowed routes under (`servicePath`): what the comparer may GET. */
  readonly servicePaths: readonly string[];
}

/** Props of a {@link ShadowComparerChart}. */
export interface ShadowComparerChartProps extends ChartProps {
  /** The image, `services/Dockerfile --target shadow-compare`, with a pinned tag. */
  readonly image: string;
  /** The shadowed routes (shadow > 0), written to the routes ConfigMap the comparer reads. */
  readonly routes: readonly ShadowRoute[];
  /** The monolith's base URL inside the cluster. @default - `monolith.legacy` on `monolithPort` */
  readonly monolithUrl?: string;
  /** Port of the monolith's Service. @default 8080 */
  readonly monolithPort?: number;
  /** Replicas. The mirror is fire and forget, so one is enough: a missing comparer costs no customer anything. @default 1 */
  readonly replicas?: number;
}

/**
 * The in-cluster shadow comparer (`aio route --shadow`), the target of the monolith's mirror
 * (`charts/shadow-mirror.ts`): Namespace (sidecar injection, PSS restricted), ServiceAccount,
 * the routes ConfigMap, Deployment and Service in `naming.shadowComparerNamespace`, and the
 * AuthorizationPolicies of its call graph:
 *
 * - in its namespace, default-deny plus GET/HEAD from Kong's principal only: the mirrored copy
 *   leaves Kong's sidecar, so it carries Kong's identity (mTLS STRICT);
 * - in each shadowed service's namespace, GET/HEAD from the comparer's principal on the route's
 *   `servicePath` only (an extra ALLOW policy; Istio ORs ALLOW policies of a workload). The monolith
 *   is outside the mesh (a `MESH_EXTERNAL` ServiceEntry), so it has no policy to extend.
 *
 * Mismatch records go to the container's standard output, one JSON line each: they are read with
 * `kubectl logs ... | aio shadow report --log -`, and kept as long as the cluster keeps container
 * logs, with nothing to provision, migrate or back up (docs/k8s-layer.md, "Shadow compare").
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export class ShadowComparerChart extends Chart {
  /** Props from the platform model, or `undefined` when no route has `shadow` above 0. */
  public static propsFromModel(
    model: PlatformModel,
    envName: string,
    options: { readonly imageTag?: string } = {},
  ): ShadowComparerChartProps | undefined {
    const routes = model
      .routes()
      .filter((r) => r.shadow > 0)
      .map(({ service, path, servicePath, shadow, shadowIgnore }) => ({
        service,
        path,
        servicePath,
        shadow,
        shadowIgnore,
      }));
    if (routes.length === 0) return undefined;
    const env = model.environment(envName);
    return {
      image: naming.image(model.name, env, naming.shadowComparerService, options.imageTag ?? '0.1.0'),
      routes,
      monolithPort: model.spec.legacy.monolith.port,
      monolithUrl: naming.monolithUrl(model.spec.legacy.monolith),
      labels: naming.tags(model.name, env.name),
    };
  }

  /** The comparer's Kubernetes Service: the mirror's destination. */
  public readonly service: kplus.Service;
  public readonly deployment: kplus.Deployment;

  constructor(scope: Construct, id: string, props: ShadowComparerChartProps) {
    super(scope, id, props);
    const name = naming.shadowComparerService;
    const ns = naming.shadowComparerNamespace;
    if (props.routes.length === 0) {
      throw new ValidationError("'routes' must list at least one shadowed route");
    }
    const replicas = props.replicas ?? 1;
    const monolithUrl =
      props.monolithUrl ??
      naming.monolithUrl({ host: naming.monolithService, port: props.monolithPort ?? 8080 });
    const services = shadowedServices(props.routes);

    new kplus.Namespace(this, 'Namespace', {
      metadata: { name: ns, labels: { ...MESH_NAMESPACE_LABELS, ...PSS_RESTRICTED_LABELS } },
    });
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, namespace: ns },
      automountToken: false,
    });
    const routes = new kplus.ConfigMap(this, 'Routes', {
      metadata: { name: `${name}-routes`, namespace: ns },
      data: { [SHADOW_ROUTES_FILE]: `${JSON.stringify(props.routes, null, 2)}\n` },
    });

    const envVariables: Record<string, kplus.EnvValue> = {
      PORT: kplus.EnvValue.fromValue(String(SHADOW_COMPARER_CONTAINER_PORT)),
      HOST: kplus.EnvValue.fromValue('0.0.0.0'),
      AIO_SHADOW_ROUTES: kplus.EnvValue.fromValue(`${SHADOW_ROUTES_DIR}/${SHADOW_ROUTES_FILE}`),
      AIO_SHADOW_LOG: kplus.EnvValue.fromValue('-'),
      MONOLITH_URL: kplus.EnvValue.fromValue(monolithUrl),
    };
    for (const s of services) {
      envVariables[peerUrlVariable(s.name)] = kplus.EnvValue.fromValue(
        `http://${naming.serviceHost(s.name)}`,
      );
    }
    const probe = (path: string) =>
      kplus.Probe.fromHttpGet(path, {
        port: SHADOW_COMPARER_CONTAINER_PORT,
        periodSeconds: Duration.seconds(10),
        failureThreshold: 3,
      });
    const security = restrictedSecurityContexts(1000);
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, namespace: ns },
      replicas,
      select: false,
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: security.pod,
      podMetadata: { labels: { [APP_LABEL]: name, app: name } },
      containers: [
        {
          name,
          image: props.image,
          portNumber: SHADOW_COMPARER_CONTAINER_PORT,
          envVariables,
          resources: {
            cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(250) },
            memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
          },
          liveness: probe('/healthz'),
          readiness: probe('/readyz'),
          securityContext: security.container,
          volumeMounts: [
            { path: SHADOW_ROUTES_DIR, volume: kplus.Volume.fromConfigMap(this, 'RoutesVolume', routes) },
          ],
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: { [APP_LABEL]: name } }));
    addRestrictedSeccomp(this.deployment);

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, namespace: ns },
      ports: [
        { name: 'http', port: SHADOW_COMPARER_SERVICE_PORT, targetPort: SHADOW_COMPARER_CONTAINER_PORT },
      ],
    });
    this.service.selectLabel(APP_LABEL, name);
    ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', 'http'));

    const reads = ['GET', 'HEAD'];
    new AuthorizationPolicy(this, 'DenyAll', { metadata: { name: 'default-deny', namespace: ns }, spec: {} });
    new AuthorizationPolicy(this, 'AllowMirror', {
      metadata: { name: `${name}-allow-mirror`, namespace: ns },
      spec: {
        selector: { matchLabels: { [APP_LABEL]: name } },
        action: 'ALLOW',
        rules: [
          {
            from: [
              {
                source: {
                  principals: [
                    AuthorizationPolicy.principal(naming.gatewayNamespace, naming.gatewayServiceAccount),
                  ],
                },
              },
            ],
            // the mirrored reads keep the public path: exactly the shadowed routes, as the monolith's
            // VirtualService mirrors them (charts/shadow-mirror.ts: the path and everything under it)
            to: [
              { operation: { methods: reads, paths: props.routes.flatMap((r) => [r.path, `${r.path}/*`]) } },
            ],
          },
        ],
      },
    });
    const comparer = AuthorizationPolicy.principal(ns, name);
    for (const s of services) {
      new AuthorizationPolicy(this, `Allow-${s.name}`, {
        metadata: { name: `${s.name}-allow-shadow-compare`, namespace: naming.namespace(s.name) },
        spec: {
          selector: { matchLabels: { [APP_LABEL]: s.name } },
          action: 'ALLOW',
          rules: [
            {
              from: [{ source: { principals: [comparer] } }],
              // the path itself and everything under it, as the mirror matches them
              to: [{ operation: { methods: reads, paths: s.servicePaths.flatMap((p) => [p, `${p}/*`]) } }],
            },
          ],
        },
      });
    }
  }
}

/** The services behind `routes`, each with the prefixes the comparer asks it for, sorted. */
export function shadowedServices(routes: readonly ShadowRoute[]): ShadowedService[] {
  const byService = new Map<string, Set<string>>();
  for (const r of routes) {
    const paths = byService.get(r.service) ?? new Set<string>();
    paths.add(r.servicePath);
    byService.set(r.service, paths);
  }
  return [...byService]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, paths]) => ({ name, servicePaths: [...paths].sort() }));
}
