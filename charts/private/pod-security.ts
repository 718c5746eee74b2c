import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * The security contexts of a workload that runs under Pod Security "restricted" as `uid` (user,
 * group and fsGroup): non-root, no privilege escalation, every capability dropped, a read-only
 * root filesystem and the runtime's default seccomp profile.
 *
 * `pod` goes in the Deployment's `securityContext`, `container` in each container's. cdk8s-plus
 * writes no pod-level `seccompProfile`, which the restricted profile requires of the pod or of
 * every container (init containers included, such as Istio's injected ones), so
 * {@link addRestrictedSeccomp} patches it in.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export function restrictedSecurityContexts(uid: number): {
  readonly pod: kplus.PodSecurityContextProps;
  readonly container: kplus.ContainerSecurityContextProps;
} {
  return {
    pod: { ensureNonRoot: true, user: uid, group: uid, fsGroup: uid },
    container: {
      ensureNonRoot: true,
      user: uid,
      group: uid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: [kplus.Capability.ALL] },
      seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
    },
  };
}

/**
 * Sets the pod-level `seccompProfile: RuntimeDefault` of a Deployment, which cdk8s-plus does not
 * offer as a prop (see {@link restrictedSecurityContexts}).
 */
export function addRestrictedSeccomp(deployment: kplus.Deployment): void {
  ApiObject.of(deployment).addJsonPatch(
    JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
  );
}
