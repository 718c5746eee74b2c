import type { IGateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import type { IGatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IListener } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Listener';
import type { IReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind, type SpecOf } from './custom-object.js';

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

/** Spec of an `HTTPRoute`, as the package declares it. */
export type HttpRouteSpec = SpecOf<IHTTPRoute>;

/** One rule of an `HTTPRoute`: any of its matches selects it. */
export type HttpRouteSpecRule = NonNullable<HttpRouteSpec['rules']>[number];

/**
 * One match of an `HTTPRoute` rule: all of its conditions hold. Its `path` may be absent (and so
 * may the path's `type` and `value`): Gateway API then matches the prefix `/`.
 *
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#httppathmatch
 */
export type HttpRouteMatch = NonNullable<HttpRouteSpecRule['matches']>[number];

/** A method an `HTTPRoute` match may name (Gateway API `HTTPMethod`). */
export type HttpMethod = NonNullable<HttpRouteMatch['method']>;

// Keyed by the package's union, so a method it adds or drops fails to compile here.
const METHOD_SET: { readonly [M in HttpMethod]: true } = {
  GET: true,
  HEAD: true,
  POST: true,
  PUT: true,
  DELETE: true,
  CONNECT: true,
  OPTIONS: true,
  TRACE: true,
  PATCH: true,
};

/** The methods an `HTTPRoute` match may name, upper case as Gateway API spells them. */
export const HTTP_METHODS = Object.keys(METHOD_SET) as readonly HttpMethod[];

/** Whether `method` is one of {@link HTTP_METHODS}. */
export function isHttpMethod(method: string): method is HttpMethod {
  return Object.hasOwn(METHOD_SET, method);
}

/**
 * Gateway API `HTTPRoute`: matches, filters (header modifiers, URL rewrites, mirrors) and
 * weighted backends.
 *
 * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
 */
export class HttpRoute extends CustomObject<IHTTPRoute> {
  public static readonly GVK: GroupVersionKind<IHTTPRoute> = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IHTTPRoute>) {
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
