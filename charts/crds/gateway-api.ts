import type { IGateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import type { IGatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import type { IListener } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Listener';
import type { IReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind } from './custom-object.js';

/** One listener of a `Gateway` (Gateway API's `Listener`). */
export type GatewayListener = IListener;

/**
 * Gateway API `GatewayClass` (cluster-scoped).
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/gatewayclass/
 */
export class GatewayClass extends CustomObject<IGatewayClass> {
  public static readonly GVK: GroupVersionKind<IGatewayClass> = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IGatewayClass>) {
    super(scope, id, GatewayClass.GVK, props);
  }
}

/**
 * Gateway API `Gateway`: the listeners (hosts, ports, TLS) of the edge.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/gateway/
 */
export class Gateway extends CustomObject<IGateway> {
  public static readonly GVK: GroupVersionKind<IGateway> = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IGateway>) {
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
 * The `HTTPRoute` as the gateway chart builds it. Still hand-written (by the strangler work, after
 * the move to `@kubernetes-models`): the package's `IHTTPRoute` types `method` as an enum and
 * `path` as optional, so moving to it means narrowing those call sites first.
 */
interface HttpRouteModel {
  readonly apiVersion: 'gateway.networking.k8s.io/v1';
  readonly kind: 'HTTPRoute';
  readonly spec?: HttpRouteSpec;
}

/**
 * Gateway API `HTTPRoute`: matches, filters (header modifiers, URL rewrites, mirrors) and
 * weighted backends.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
 */
export class HttpRoute extends CustomObject<HttpRouteModel> {
  public static readonly GVK: GroupVersionKind<HttpRouteModel> = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<HttpRouteModel>) {
    super(scope, id, HttpRoute.GVK, props);
  }
}

/**
 * Gateway API `ReferenceGrant` (v1beta1): lets routes in another namespace point at Services here.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/referencegrant/
 */
export class ReferenceGrant extends CustomObject<IReferenceGrant> {
  public static readonly GVK: GroupVersionKind<IReferenceGrant> = {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IReferenceGrant>) {
    super(scope, id, ReferenceGrant.GVK, props);
  }
}
