import { Construct } from 'constructs';
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
  /** Services allowed to call this one (the reverse of `calls`). @default [] */
  readonly allowedCallers?: readonly string[];
  /** Allow Kong to call this service (it has routes). @default false */
  readonly allowGateway?: boolean;
  /** Port of the service's Kubernetes Service. @default 80 */
  readonly servicePort?: number;
}

/**
 * One service's Istio policy: default-deny for its namespace, ALLOW from exactly its callers
 * (and Kong when routed), a DestinationRule (ISTIO_MUTUAL, connection pool, outlier detection)
 * and a VirtualService (timeout, retries with a per-try timeout).
 *
 * The outlier detection and the tier's short timeout are what keep a dead non-critical service
 * from holding up its callers: the caller fails fast and the dead endpoints are ejected.
 *
 * @see https://istio.io/latest/docs/concepts/traffic-management/#circuit-breakers
 * @see https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns
 */
export class ServiceMeshPolicy extends Construct {
  /** The ALLOW policy for callers, if the service has any caller. */
  public readonly allowCallers?: AuthorizationPolicy;
  /** The ALLOW policy for Kong, if the service is routed. */
  public readonly allowGateway?: AuthorizationPolicy;

  constructor(scope: Construct, id: string, props: ServiceMeshPolicyProps) {
    super(scope, id);
    const svc = props.service;
    const namespace = props.namespace ?? naming.namespace(svc);
    const host = naming.clusterHost(svc, namespace);
    const tier = props.tierPolicy;
    const callers = [...(props.allowedCallers ?? [])].sort();
    const selector = { matchLabels: { [APP_LABEL]: svc } };

    new AuthorizationPolicy(this, 'DenyAll', {
      metadata: { name: 'default-deny', namespace },
      spec: {},
    });
    if (callers.length > 0) {
      this.allowCallers = new AuthorizationPolicy(this, 'AllowCallers', {
        metadata: { name: `${svc}-allow-callers`, namespace },
        spec: {
          selector,
          action: 'ALLOW',
          rules: [
            {
              from: [
                {
                  source: {
                    principals: callers.map((c) =>
                      AuthorizationPolicy.principal(naming.namespace(c), naming.serviceAccount(c)),
                    ),
                  },
                },
              ],
            },
          ],
        },
      });
    }
    if (props.allowGateway) {
      this.allowGateway = new AuthorizationPolicy(this, 'AllowGateway', {
        metadata: { name: `${svc}-allow-gateway`, namespace },
        spec: {
          selector,
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
            },
          ],
        },
      });
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
