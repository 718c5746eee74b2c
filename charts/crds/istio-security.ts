import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps } from './custom-object.js';

/** Workload selector shared by Istio policies. */
export interface WorkloadSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
}

/** Spec of an Istio `PeerAuthentication`. */
export interface PeerAuthenticationSpec {
  /** @default - every workload in the namespace (mesh-wide in the root namespace) */
  readonly selector?: WorkloadSelector;
  readonly mtls: { readonly mode: MtlsMode };
  /** Per-port overrides; needs a `selector`. @default - none */
  readonly portLevelMtls?: Readonly<Record<string, { readonly mode: MtlsMode }>>;
}

/** How a sidecar treats plaintext. */
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/**
 * Istio `PeerAuthentication` (security.istio.io/v1): which mTLS mode sidecars accept.
 *
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
export class PeerAuthentication extends CustomObject<PeerAuthenticationSpec> {
  public static readonly GVK = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<PeerAuthenticationSpec>) {
    super(scope, id, PeerAuthentication.GVK, props);
  }
}

/** One source of an authorization rule. */
export interface AuthorizationSource {
  /** SPIFFE-style principals: `cluster.local/ns/<ns>/sa/<sa>`. */
  readonly principals?: readonly string[];
  readonly namespaces?: readonly string[];
}

/** One rule of an `AuthorizationPolicy`. */
export interface AuthorizationRule {
  readonly from?: readonly { readonly source: AuthorizationSource }[];
  readonly to?: readonly {
    readonly operation: { readonly ports?: readonly string[]; readonly paths?: readonly string[] };
  }[];
}

/** Spec of an Istio `AuthorizationPolicy`. An empty spec allows nothing (default deny). */
export interface AuthorizationPolicySpec {
  /** @default - every workload in the namespace */
  readonly selector?: WorkloadSelector;
  /** @default 'ALLOW' */
  readonly action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /** @default - no rules: with action ALLOW, nothing is allowed */
  readonly rules?: readonly AuthorizationRule[];
}

/**
 * Istio `AuthorizationPolicy` (security.istio.io/v1).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export class AuthorizationPolicy extends CustomObject<AuthorizationPolicySpec> {
  public static readonly GVK = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' } as const;

  /** The SPIFFE principal of a service account: `cluster.local/ns/<ns>/sa/<sa>`. */
  public static principal(namespace: string, serviceAccount: string): string {
    return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
  }

  constructor(scope: Construct, id: string, props: CustomObjectProps<AuthorizationPolicySpec>) {
    super(scope, id, AuthorizationPolicy.GVK, props);
  }
}
