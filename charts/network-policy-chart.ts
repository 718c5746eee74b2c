import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { planMesh } from '../model/mesh-plan.js';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { APP_LABEL } from './private/labels.js';
import { SHADOW_COMPARER_CONTAINER_PORT } from './shadow-comparer.js';

type Peer = kplus.k8s.NetworkPolicyPeer;
type Port = kplus.k8s.NetworkPolicyPort;

/** One service as the network sees it. */
export interface NetworkServiceProps {
  readonly name: string;
  /** The container port its pods listen on (NetworkPolicy ports are pod ports, not Service ports). @default 8080 */
  readonly port?: number;
  /** It has an Aurora PostgreSQL database (egress to `naming.databasePort` in the VPC). @default false */
  readonly database?: boolean;
  /** It has an ElastiCache (Valkey) cache (egress to `naming.cachePort`, 6380, in the VPC). @default false */
  readonly cache?: boolean;
  /** Kong may call it (the mesh grants Kong some of its operations). @default false */
  readonly routed?: boolean;
  /** The services it calls (its `calls`). @default [] */
  readonly calls?: readonly string[];
}

/** Props of a {@link NetworkPolicyChart}. */
export interface NetworkPolicyChartProps extends ChartProps {
  /** Every service of the platform. */
  readonly services: readonly NetworkServiceProps[];
  /** The VPC's CIDR: Aurora, ElastiCache and the AWS interface endpoints live in it. @default naming.defaultVpcCidr */
  readonly vpcCidr?: string;
  /** Namespace of the Jaeger collector (OTLP 4317/4318). @default naming.defaultTracingNamespace */
  readonly tracingNamespace?: string;
  /** The legacy monolith's port, for services whose `calls` name `monolith`. @default 8080 */
  readonly monolithPort?: number;
  /** Labels of Kong's proxy pods. @default { 'app.kubernetes.io/name': 'kong' } */
  readonly gatewayPodLabels?: Readonly<Record<string, string>>;
  /**
   * The shadow comparer (`aio route --shadow`): Kong's mirror reaches it, and it asks the shadowed
   * services and the monolith the same GET. @default - none (no route is shadowed)
   */
  readonly shadowComparer?: {
    /** The services it calls. */
    readonly services: readonly string[];
    /** The monolith's port (the monolith is outside the cluster, at an address DNS gives). */
    readonly monolithPort: number;
  };
}

/** The Istio agent's port where Prometheus scrapes merged (Envoy + app) metrics. */
export const ISTIO_AGENT_METRICS_PORT = 15020;
/** istiod's xDS and certificate port: every sidecar connects to it, or it never gets config. */
export const ISTIOD_XDS_PORT = 15012;
/** EKS Pod Identity agent (link-local, on each node): where the AWS SDK gets credentials. */
export const POD_IDENTITY_AGENT_CIDRS = ['169.254.170.23/32', 'fd00:ec2::23/128'] as const;

const tcp = (port: number): Port => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(port) });
const udp = (port: number): Port => ({ protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(port) });
const inNamespace = (ns: string, pods?: Readonly<Record<string, string>>): Peer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
  ...(pods ? { podSelector: { matchLabels: { ...pods } } } : {}),
});

/**
 * Kubernetes NetworkPolicies as the second layer under the mesh: every service namespace denies all
 * ingress and egress, then allows exactly
 *
 * - ingress to the service's port from Kong's pods (routed services) and from each caller's pods;
 * - egress to each callee's pods on its port;
 * - egress to DNS (kube-dns in kube-system, UDP and TCP 53), to istiod's xDS port 15012 (without
 *   it the sidecar gets no config and the pod never becomes ready), to the Jaeger collector (OTLP
 *   4317/4318), and to the EKS Pod Identity agent (169.254.170.23:80);
 * - egress to the VPC's CIDR on 5432 (Aurora) or 6380 (Valkey, `naming.cachePort`) when the service has one, and
 *   on 443 for the AWS interface endpoints (STS, Secrets Manager, CloudWatch Logs): these are VPC
 *   addresses that change with failover, so a CIDR is the stable selector.
 *
 * NetworkPolicies see the pod's real port: Istio redirects inside the pod, after the node has
 * applied the policy, so peers are allowed on the container port, not the Service's port 80.
 * The shadow comparer, when a route is shadowed, gets the same: Kong's mirror in, the shadowed
 * services and the monolith's port out.
 *
 * Traffic from the node (kubelet probes, which Istio rewrites to its agent on 15020) is always
 * allowed. Prometheus scrapes the agent's merged metrics on 15020 from `naming.metricsNamespace`.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 * @see https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html
 */
export class NetworkPolicyChart extends Chart {
  /** Props from the platform model: Kong reaches the services the mesh lets it call. */
  public static propsFromModel(model: PlatformModel): NetworkPolicyChartProps {
    const plan = planMesh(model);
    const shadowed = [
      ...new Set(
        model
          .routes()
          .filter((r) => r.shadow > 0)
          .map((r) => r.service),
      ),
    ].sort();
    return {
      services: model.services.map((s) => ({
        name: s.name,
        port: s.port,
        database: s.database === 'postgres',
        cache: s.cache === 'redis',
        routed: (plan.services.find((p) => p.service === s.name)?.gateway.length ?? 0) > 0,
        calls: s.calls,
      })),
      tracingNamespace: model.spec.tracing.namespace,
      monolithPort: model.spec.legacy.monolith.port,
      ...(shadowed.length
        ? { shadowComparer: { services: shadowed, monolithPort: model.spec.legacy.monolith.port } }
        : {}),
    };
  }

  /** The NetworkPolicies, by `namespace/name`. */
  public readonly policies: ReadonlyMap<string, kplus.k8s.KubeNetworkPolicy>;

  constructor(scope: Construct, id: string, props: NetworkPolicyChartProps) {
    super(scope, id, props);
    const vpcCidr = props.vpcCidr ?? naming.defaultVpcCidr;
    const tracingNs = props.tracingNamespace ?? naming.defaultTracingNamespace;
    const gatewayPods = props.gatewayPodLabels ?? { [APP_LABEL]: 'kong' };
    const byName = new Map(props.services.map((s) => [s.name, s]));
    const portOf = (name: string) => byName.get(name)?.port ?? 8080;
    const policies = new Map<string, kplus.k8s.KubeNetworkPolicy>();
    const policy = (
      namespace: string,
      app: string,
      name: string,
      spec: { ingress?: kplus.k8s.NetworkPolicyIngressRule[]; egress?: kplus.k8s.NetworkPolicyEgressRule[] },
    ) => {
      const types = [...(spec.ingress ? ['Ingress'] : []), ...(spec.egress ? ['Egress'] : [])];
      policies.set(
        `${namespace}/${name}`,
        new kplus.k8s.KubeNetworkPolicy(this, `${namespace}-${name}`, {
          metadata: { name, namespace },
          spec: {
            podSelector: name === 'default-deny' ? {} : { matchLabels: { [APP_LABEL]: app } },
            policyTypes: types,
            ...spec,
          },
        }),
      );
    };
    const platformEgress = (extra: Port[]): kplus.k8s.NetworkPolicyEgressRule[] => [
      { to: [inNamespace('kube-system', { 'k8s-app': 'kube-dns' })], ports: [udp(53), tcp(53)] },
      { to: [inNamespace(naming.istioNamespace, { app: 'istiod' })], ports: [tcp(ISTIOD_XDS_PORT)] },
      { to: [inNamespace(tracingNs)], ports: [tcp(naming.otlpGrpcPort), tcp(naming.otlpHttpPort)] },
      { to: POD_IDENTITY_AGENT_CIDRS.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(80)] },
      { to: [{ ipBlock: { cidr: vpcCidr } }], ports: [tcp(443), ...extra] },
    ];
    const shadow = props.shadowComparer;
    const comparerPods = inNamespace(naming.shadowComparerNamespace, {
      [APP_LABEL]: naming.shadowComparerService,
    });

    for (const svc of props.services) {
      const port = svc.port ?? 8080;
      const ns = naming.namespace(svc.name);
      policy(ns, svc.name, 'default-deny', { ingress: [], egress: [] });
      policy(ns, svc.name, 'allow-platform-egress', {
        egress: platformEgress([
          ...(svc.database ? [tcp(naming.databasePort)] : []),
          ...(svc.cache ? [tcp(naming.cachePort)] : []),
        ]),
      });
      const callers = props.services.filter((c) => (c.calls ?? []).includes(svc.name)).map((c) => c.name);
      const from: Peer[] = [
        ...(svc.routed ? [inNamespace(naming.gatewayNamespace, gatewayPods)] : []),
        ...callers.sort().map((c) => inNamespace(naming.namespace(c), { [APP_LABEL]: c })),
        ...(shadow?.services.includes(svc.name) ? [comparerPods] : []),
      ];
      policy(ns, svc.name, 'allow-ingress', {
        ingress: [
          ...(from.length ? [{ from, ports: [tcp(port)] }] : []),
          { from: [inNamespace(naming.metricsNamespace)], ports: [tcp(ISTIO_AGENT_METRICS_PORT)] },
        ],
      });
      const calls = [...(svc.calls ?? [])].sort();
      if (calls.length > 0) {
        policy(ns, svc.name, 'allow-calls', {
          egress: calls.map((callee) =>
            callee === naming.monolithService
              ? // the legacy monolith is outside the cluster, at whatever address its DNS name has: its port only
                { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(props.monolithPort ?? 8080)] }
              : {
                  to: [inNamespace(naming.namespace(callee), { [APP_LABEL]: callee })],
                  ports: [tcp(portOf(callee))],
                },
          ),
        });
      }
    }
    if (shadow) {
      const ns = naming.shadowComparerNamespace;
      const app = naming.shadowComparerService;
      policy(ns, app, 'default-deny', { ingress: [], egress: [] });
      policy(ns, app, 'allow-platform-egress', { egress: platformEgress([]) });
      policy(ns, app, 'allow-ingress', {
        ingress: [
          {
            from: [inNamespace(naming.gatewayNamespace, gatewayPods)],
            ports: [tcp(SHADOW_COMPARER_CONTAINER_PORT)],
          },
          { from: [inNamespace(naming.metricsNamespace)], ports: [tcp(ISTIO_AGENT_METRICS_PORT)] },
        ],
      });
      policy(ns, app, 'allow-calls', {
        egress: [
          ...[...shadow.services].sort().map((s) => ({
            to: [inNamespace(naming.namespace(s), { [APP_LABEL]: s })],
            ports: [tcp(portOf(s))],
          })),
          // the monolith is outside the cluster, at whatever address its DNS name has: its port only
          { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(shadow.monolithPort)] },
        ],
      });
    }
    this.policies = policies;
  }
}
