/** The label every workload carries, and that Istio policies and Services select on. */
export const APP_LABEL = 'app.kubernetes.io/name';

/** Labels of a namespace that Istio injects sidecars into. */
export const MESH_NAMESPACE_LABELS: Readonly<Record<string, string>> = { 'istio-injection': 'enabled' };

/** Pod Security Admission labels: enforce the restricted profile. */
export const PSS_RESTRICTED_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};
