import { Construct } from 'constructs';
import { istioPath, type MeshOperation } from '../model/mesh-plan.js';
import { naming } from '../model/naming.js';
import type { TierPolicy } from '../model/schema.js';
import { AuthorizationPolicy } from './crds/istio-security.js';
import { DestinationRule, VirtualService } from './crds/istio-networking.js';
import { APP_LABEL } from './private/labels.js';

/** Props of a {@link ServiceMeshPolicy}. */
export interface ServiceMeshPolicyProps {
  /** The service. */
  readonly service: string;
  /** Its namespace. @default naming.namespace(service) */
  readonly namespace?: string;
  /** Timeout, retries and circuit breaking (the service's tier in platform.yaml). */
  readonly tierPolicy: TierPolicy;
  /**
   * By calling service (the reverse of `calls`): the operations it may call, from its route contract
   * (`planMesh`). A caller with no operation gets no rule.
   *
   * @default {}
   */
  readonly callers?: Readonly<Record<string, readonly MeshOperation[]>>;
  /** The operations Kong may call: the public ones it routes here. @default [] (Kong is denied) */
  readonly gatewayOperations?: readonly MeshOperation[];
  /** Principals of the platform's operators (`mesh.operators`), as SPIFFE ids. @default [] */
  readonly operators?: readonly string[];
  /** The operations only operators may call (`/sagas*`, stock writes, `/metrics`, ...). @default [] */
  readonly operatorOperations?: readonly MeshOperation[];
  /** Port of the service's Kubernetes Service. @default 80 */
  readonly servicePort?: number;
}

/**
 * `to` of an ALLOW rule: one operation per path, with the methods allowed on it. Paths are Istio
 * URI templates (`{*}` is one segment, see {@link istioPath}).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation
 */
export function operationsTo(
  ops: readonly MeshOperation[],
): { operation: { methods: string[]; paths: string[] } }[] {
  const byPath = new Map<string, Set<string>>();
  for (const o of ops) {
    const path = istioPath(o.path);
    byPath.set(path, (byPath.get(path) ?? new Set()).add(o.method));
  }
  return [...byPath.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, methods]) => ({ operation: { methods: [...methods].sort(), paths: [path] } }));
}

/**
 * One service's Istio policy: default-deny for its namespace; ALLOW, per operation (`to.operation`:
 * methods and paths from the route contracts), for Kong on the public operations it routes, for
 * each caller on the operations it declares, and for `mesh.operators` on the operator endpoints;
 * a DestinationRule (ISTIO_MUTUAL, connection pool, outlier detection) and a VirtualService
 * (timeout, retries with a per-try timeout).
 *
 * ALLOW policies are OR-ed and the namespace denies by default, so anything no rule names (an
 * operator path through Kong, a participant path from a service that does not declare it) is a 403.
 *
 * The outlier detection and the tier's short timeout are what keep a dead non-critical service
 * from holding up its callers: the caller fails fast and the dead endpoints are ejected.
 *
 * @see https://istio.io/latest/docs/concepts/traffic-management/#circuit-breakers
 * @see https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns
 * @see https://istio.io/latest/docs/concepts/security/#allow-nothing-deny-all-and-allow-all-policy
 */
export class ServiceMeshPolicy extends Construct {
  /** The ALLOW policy for callers, if the service has any caller. */
  public readonly allowCallers?: AuthorizationPolicy;
  /** The ALLOW policy for Kong, if Kong routes any operation here. */
  public readonly allowGateway?: AuthorizationPolicy;
  /** The ALLOW policy for operators, if `mesh.operators` names any. */
  public readonly allowOperators?: AuthorizationPolicy;

  constructor(scope: Construct, id: string, props: ServiceMeshPolicyProps) {
    super(scope, id);
    const svc = props.service;
    const namespace = props.namespace ?? naming.namespace(svc);
    const host = naming.clusterHost(svc, namespace);
    const tier = props.tierPolicy;
    const selector = { matchLabels: { [APP_LABEL]: svc } };
    const allow = (
      cid: string,
      name: string,
      rules: { principals: string[]; ops: readonly MeshOperation[] }[],
    ) =>
      new AuthorizationPolicy(this, cid, {
        metadata: { name, namespace },
        spec: {
          selector,
          action: 'ALLOW',
          rules: rules.map((r) => ({
            from: [{ source: { principals: r.principals } }],
            to: operationsTo(r.ops),
          })),
        },
      });

    new AuthorizationPolicy(this, 'DenyAll', {
      metadata: { name: 'default-deny', namespace },
      spec: {},
    });
    const callers = Object.entries(props.callers ?? {})
      .filter(([, ops]) => ops.length > 0)
      .sort(([a], [b]) => a.localeCompare(b));
    if (callers.length > 0) {
      this.allowCallers = allow(
        'AllowCallers',
        `${svc}-allow-callers`,
        callers.map(([caller, ops]) => ({
          principals: [
            AuthorizationPolicy.principal(naming.namespace(caller), naming.serviceAccount(caller)),
          ],
          ops,
        })),
      );
    }
    if ((props.gatewayOperations ?? []).length > 0) {
      this.allowGateway = allow('AllowGateway', `${svc}-allow-gateway`, [
        {
          principals: [AuthorizationPolicy.principal(naming.gatewayNamespace, naming.gatewayServiceAccount)],
          ops: props.gatewayOperations!,
        },
      ]);
    }
    const operators = [...(props.operators ?? [])].sort();
    if (operators.length > 0 && (props.operatorOperations ?? []).length > 0) {
      this.allowOperators = allow('AllowOperators', `${svc}-allow-operators`, [
        { principals: operators, ops: props.operatorOperations! },
      ]);
    }

    const cb = tier.circuitBreaker;
    new DestinationRule(this, 'DestinationRule', {
      metadata: { name: svc, namespace },
      spec: {
        host,
        trafficPolicy: {
          tls: { mode: 'ISTIO_MUTUAL' },
          connectionPool: {
            tcp: { maxConnections: cb.maxConnections },
            http: { http1MaxPendingRequests: cb.maxPendingRequests },
          },
          outlierDetection: {
            consecutive5xxErrors: cb.consecutive5xxErrors,
            interval: cb.interval,
            baseEjectionTime: cb.baseEjectionTime,
            maxEjectionPercent: cb.maxEjectionPercent,
            // Envoy's panic threshold, written out: below it the proxy balances across ejected hosts
            // too (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold).
            minHealthPercent: cb.minHealthPercent,
          },
        },
      },
    });
    new VirtualService(this, 'VirtualService', {
      metadata: { name: svc, namespace },
      spec: {
        hosts: [host],
        http: [
          {
            route: [{ destination: { host, port: { number: props.servicePort ?? 80 } } }],
            timeout: tier.timeout,
            // `attempts` are retries after the first try; `retryOn` is Envoy's x-envoy-retry-on list
            // (https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry).
            retries: {
              attempts: tier.retries.attempts,
              perTryTimeout: tier.retries.perTryTimeout,
              retryOn: tier.retries.on.join(','),
            },
          },
        ],
      },
    });
  }
}
