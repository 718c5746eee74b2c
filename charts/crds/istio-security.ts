import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import type { IPeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import type { IRequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind } from './custom-object.js';

/**
 * Istio `PeerAuthentication` (security.istio.io/v1): which mTLS mode sidecars accept.
 *
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
export class PeerAuthentication extends CustomObject<IPeerAuthentication> {
  public static readonly GVK: GroupVersionKind<IPeerAuthentication> = {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IPeerAuthentication>) {
    super(scope, id, PeerAuthentication.GVK, props);
  }
}

/**
 * Istio `AuthorizationPolicy` (security.istio.io/v1). An empty spec allows nothing (default deny).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export class AuthorizationPolicy extends CustomObject<IAuthorizationPolicy> {
  public static readonly GVK: GroupVersionKind<IAuthorizationPolicy> = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
  };

  /** The SPIFFE principal of a service account: `cluster.local/ns/<ns>/sa/<sa>`. */
  public static principal(namespace: string, serviceAccount: string): string {
    return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
  }

  constructor(scope: Construct, id: string, props: CustomObjectProps<IAuthorizationPolicy>) {
    super(scope, id, AuthorizationPolicy.GVK, props);
  }
}

/**
 * Istio `RequestAuthentication` (security.istio.io/v1): which JWT issuers a workload accepts.
 *
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
export class RequestAuthentication extends CustomObject<IRequestAuthentication> {
  public static readonly GVK: GroupVersionKind<IRequestAuthentication> = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IRequestAuthentication>) {
    super(scope, id, RequestAuthentication.GVK, props);
  }
}
