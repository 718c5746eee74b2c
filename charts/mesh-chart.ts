import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import { planMesh, type MeshOperation } from '../model/mesh-plan.js';
import type { PlatformModel } from '../model/platform-model.js';
import type { TierPolicy } from '../model/schema.js';
import { ValidationError } from '../model/validation-error.js';
import { AuthorizationPolicy, PeerAuthentication } from './crds/istio-security.js';
import { DestinationRule } from './crds/istio-networking.js';
import { ShadowMirror, type ShadowMirrorProps } from './shadow-mirror.js';
import { Telemetry } from './crds/istio-telemetry.js';
import { ServiceMeshPolicy } from './service-mesh-policy.js';

/** One service as the mesh sees it. */
export interface MeshServiceProps {
  readonly name: string;
  /** Timeout, retries and circuit breaking of the service's tier. */
  readonly tierPolicy: TierPolicy;
  /** By calling service: the operations it may call (`planMesh`). @default {} */
  readonly callers?: Readonly<Record<string, readonly MeshOperation[]>>;
  /** The public operations Kong routes to it. @default [] */
  readonly gatewayOperations?: readonly MeshOperation[];
  /** Its operator endpoints: only `operators` may call them. @default [] */
  readonly operatorOperations?: readonly MeshOperation[];
}

/** Props of a {@link MeshChart}. */
export interface MeshChartProps extends ChartProps {
  /** Every service in the mesh. */
  readonly services: readonly MeshServiceProps[];
  /** Percent of requests traced. @default 10 */
  readonly samplingPercentage?: number;
  /** Istio's root namespace: mesh-wide policies live there. @default 'istio-system' */
  readonly rootNamespace?: string;
  /** The tracing extension provider in Istio's mesh config. @default naming.meshTracingProvider ('jaeger') */
  readonly tracingProvider?: string;
  /** SPIFFE principals of the operators (`mesh.operators`). @default [] */
  readonly operators?: readonly string[];
  /** Shadow compare: the mirror on the monolith's host. @default - none (no route is shadowed) */
  readonly shadow?: ShadowMirrorProps;
  /**
   * The legacy monolith (`legacy.monolith`): outside the mesh, so its traffic leaves the sidecar
   * without Istio's mTLS (a DestinationRule with `tls.mode: DISABLE` on its host).
   * @default - no DestinationRule for the monolith (auto mTLS decides)
   */
  readonly monolith?: { readonly host: string };
}

/**
 * The service mesh policy: STRICT mTLS mesh-wide, tracing at the platform's sampling rate, and
 * per service a default-deny namespace, ALLOW policies per operation (`to.operation`) for Kong on
 * the public operations it routes, for each caller on the operations it declares and for the
 * operators on the rest (`planMesh`), a DestinationRule and a VirtualService from the service's tier;
 * and a DestinationRule that keeps Istio's mTLS off the legacy monolith, which is outside the mesh.
 *
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
export class MeshChart extends Chart {
  /** Props from the platform model. */
  public static propsFromModel(model: PlatformModel): MeshChartProps {
    const shadow = ShadowMirror.propsFromModel(model);
    const plan = planMesh(model);
    return {
      services: model.services.map((s) => {
        const p = plan.services.find((x) => x.service === s.name)!;
        return {
          name: s.name,
          tierPolicy: s.tierPolicy,
          callers: p.callers,
          gatewayOperations: p.gateway,
          operatorOperations: p.operator,
        };
      }),
      operators: model.spec.mesh.operators.map((o) => {
        const [ns, sa] = o.split('/') as [string, string];
        return AuthorizationPolicy.principal(ns, sa);
      }),
      samplingPercentage: model.spec.mesh.tracing.sampling,
      monolith: { host: model.spec.legacy.monolith.host },
      ...(shadow ? { shadow } : {}),
    };
  }

  /** Each service's policy, by service name. */
  public readonly servicePolicies: ReadonlyMap<string, ServiceMeshPolicy>;

  constructor(scope: Construct, id: string, props: MeshChartProps) {
    super(scope, id, props);
    const rootNamespace = props.rootNamespace ?? naming.istioNamespace;
    const sampling = props.samplingPercentage ?? 10;
    if (sampling < 0 || sampling > 100) {
      throw new ValidationError(`'samplingPercentage' must be from 0 to 100, got ${sampling}`);
    }

    new PeerAuthentication(this, 'StrictMtls', {
      metadata: { name: 'default', namespace: rootNamespace },
      spec: { mtls: { mode: 'STRICT' } },
    });
    new Telemetry(this, 'Tracing', {
      metadata: { name: 'mesh-default', namespace: rootNamespace },
      spec: {
        tracing: [
          {
            providers: [{ name: props.tracingProvider ?? naming.meshTracingProvider }],
            randomSamplingPercentage: sampling,
          },
        ],
      },
    });

    const policies = new Map<string, ServiceMeshPolicy>();
    for (const svc of props.services) {
      policies.set(
        svc.name,
        new ServiceMeshPolicy(this, svc.name, {
          service: svc.name,
          tierPolicy: svc.tierPolicy,
          callers: svc.callers,
          gatewayOperations: svc.gatewayOperations,
          operators: props.operators,
          operatorOperations: svc.operatorOperations,
        }),
      );
    }
    this.servicePolicies = policies;
    if (props.monolith) {
      // Kong, the shadow comparer and every service with `calls: [monolith]` reach the monolith
      // through the gateway's MESH_EXTERNAL ServiceEntry for its host (MONOLITH_URL's ExternalName
      // Service is an alias of it). It has no sidecar: Istio's mutual TLS there is a failed
      // handshake, so the rule says plaintext (or, over HTTPS, the client's own TLS, passed
      // through) rather than leave it to auto mTLS and to whatever mesh-wide rule comes later.
      // https://istio.io/latest/docs/tasks/traffic-management/egress/egress-kubernetes-services/
      new DestinationRule(this, 'MonolithDestinationRule', {
        metadata: { name: naming.monolithService, namespace: naming.monolithNamespace },
        spec: { host: props.monolith.host, trafficPolicy: { tls: { mode: 'DISABLE' } } },
      });
    }
    if (props.shadow) new ShadowMirror(this, 'ShadowMirror', props.shadow);
  }
}
