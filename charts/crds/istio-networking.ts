import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps } from './custom-object.js';

/** Traffic policy of a `DestinationRule`: mTLS, connection pool and outlier detection. */
export interface TrafficPolicy {
  readonly tls?: { readonly mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL' };
  readonly connectionPool?: {
    readonly tcp?: { readonly maxConnections?: number; readonly connectTimeout?: string };
    readonly http?: { readonly http1MaxPendingRequests?: number; readonly maxRequestsPerConnection?: number };
  };
  readonly outlierDetection?: {
    readonly consecutive5xxErrors?: number;
    readonly interval?: string;
    readonly baseEjectionTime?: string;
    readonly maxEjectionPercent?: number;
  };
}

/** Spec of an Istio `DestinationRule`. */
export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
}

/**
 * Istio `DestinationRule` (networking.istio.io/v1): how clients talk to a host.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
export class DestinationRule extends CustomObject<DestinationRuleSpec> {
  public static readonly GVK = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<DestinationRuleSpec>) {
    super(scope, id, DestinationRule.GVK, props);
  }
}

/** One HTTP route of a `VirtualService`. */
export interface HttpRouteRule {
  readonly route: readonly {
    readonly destination: { readonly host: string; readonly port?: { readonly number: number } };
    readonly weight?: number;
  }[];
  readonly timeout?: string;
  readonly retries?: {
    readonly attempts: number;
    readonly perTryTimeout?: string;
    readonly retryOn?: string;
  };
}

/** Spec of an Istio `VirtualService`. */
export interface VirtualServiceSpec {
  readonly hosts: readonly string[];
  readonly http: readonly HttpRouteRule[];
}

/**
 * Istio `VirtualService` (networking.istio.io/v1): timeouts and retries for a host.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
export class VirtualService extends CustomObject<VirtualServiceSpec> {
  public static readonly GVK = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<VirtualServiceSpec>) {
    super(scope, id, VirtualService.GVK, props);
  }
}

/** Spec of an Istio `ServiceEntry`. */
export interface ServiceEntrySpec {
  readonly hosts: readonly string[];
  readonly ports: readonly {
    readonly number: number;
    readonly name: string;
    readonly protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'TLS';
  }[];
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  readonly resolution: 'DNS' | 'STATIC' | 'NONE';
}

/**
 * Istio `ServiceEntry` (networking.istio.io/v1): a host outside the mesh that sidecars know by
 * name and protocol (so HTTP routing, telemetry and `REGISTRY_ONLY` egress work for it).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
export class ServiceEntry extends CustomObject<ServiceEntrySpec> {
  public static readonly GVK = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<ServiceEntrySpec>) {
    super(scope, id, ServiceEntry.GVK, props);
  }
}
