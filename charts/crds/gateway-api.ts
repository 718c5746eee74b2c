import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps } from './custom-object.js';

const GROUP = 'gateway.networking.k8s.io';

/** Spec of a `GatewayClass`. */
export interface GatewayClassSpec {
  /** The controller that implements the class, e.g. `konghq.com/kic-gateway-controller`. */
  readonly controllerName: string;
  readonly description?: string;
}

/**
 * Gateway API `GatewayClass` (cluster-scoped).
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/gatewayclass/
 */
export class GatewayClass extends CustomObject<GatewayClassSpec> {
  public static readonly GVK = { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<GatewayClassSpec>) {
    super(scope, id, GatewayClass.GVK, props);
  }
}

/** One listener of a `Gateway`. */
export interface GatewayListener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly tls?: {
    readonly mode: 'Terminate';
    readonly certificateRefs: readonly { readonly kind: 'Secret'; readonly name: string }[];
  };
  readonly allowedRoutes?: { readonly namespaces: { readonly from: 'Same' | 'All' } };
}

/** Spec of a `Gateway`. */
export interface GatewaySpec {
  readonly gatewayClassName: string;
  readonly listeners: readonly GatewayListener[];
}

/**
 * Gateway API `Gateway`: the listeners (hosts, ports, TLS) of the edge.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/gateway/
 */
export class Gateway extends CustomObject<GatewaySpec> {
  public static readonly GVK = { apiVersion: `${GROUP}/v1`, kind: 'Gateway' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<GatewaySpec>) {
    super(scope, id, Gateway.GVK, props);
  }
}

/** A weighted backend of an `HTTPRoute` rule. */
export interface HttpBackendRef {
  readonly name: string;
  readonly namespace?: string;
  readonly port: number;
  readonly weight: number;
}

/** A header condition of an `HTTPRoute` match. */
export interface HttpHeaderMatch {
  /** @default 'Exact' */
  readonly type?: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

/** One match of an `HTTPRoute` rule: all of its conditions hold. */
export interface HttpRouteMatch {
  readonly path: { readonly type: 'PathPrefix' | 'Exact' | 'RegularExpression'; readonly value: string };
  readonly method?: string;
  readonly headers?: readonly HttpHeaderMatch[];
}

/** A `URLRewrite` filter that replaces the matched path prefix. */
export interface HttpUrlRewriteFilter {
  readonly type: 'URLRewrite';
  readonly urlRewrite: {
    readonly path: { readonly type: 'ReplacePrefixMatch'; readonly replacePrefixMatch: string };
  };
}

/** One rule of an `HTTPRoute`: any of its matches selects it. */
export interface HttpRouteSpecRule {
  readonly matches: readonly HttpRouteMatch[];
  readonly filters?: readonly HttpUrlRewriteFilter[];
  readonly backendRefs: readonly HttpBackendRef[];
}

/** Spec of an `HTTPRoute`. */
export interface HttpRouteSpec {
  readonly parentRefs: readonly { readonly name: string; readonly namespace?: string }[];
  readonly hostnames?: readonly string[];
  readonly rules: readonly HttpRouteSpecRule[];
}

/**
 * Gateway API `HTTPRoute`.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
 */
export class HttpRoute extends CustomObject<HttpRouteSpec> {
  public static readonly GVK = { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<HttpRouteSpec>) {
    super(scope, id, HttpRoute.GVK, props);
  }
}

/** Spec of a `ReferenceGrant`. */
export interface ReferenceGrantSpec {
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  readonly to: readonly { readonly group: string; readonly kind: string }[];
}

/**
 * Gateway API `ReferenceGrant`: lets routes in another namespace point at Services here.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/referencegrant/
 */
export class ReferenceGrant extends CustomObject<ReferenceGrantSpec> {
  public static readonly GVK = { apiVersion: `${GROUP}/v1beta1`, kind: 'ReferenceGrant' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<ReferenceGrantSpec>) {
    super(scope, id, ReferenceGrant.GVK, props);
  }
}
