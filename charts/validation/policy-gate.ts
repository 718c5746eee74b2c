import type { GateFinding } from '../../synth/synth-step.js';
import { objectId, type KubeObject } from '../apply-order.js';
import { findCredentials } from './credential-scan.js';
import { fieldPath, finding } from './findings.js';

type Json = Record<string, unknown>;
type Path = (string | number)[];

const POD_TEMPLATE_PATHS: Readonly<Record<string, Path>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/**
 * The policy gate over synthesized objects:
 * - `pss-restricted`: every pod template meets the Pod Security Standard "restricted" profile, and
 *   has a read-only root filesystem;
 * - `container-resources` / `container-probes`: requests, limits, liveness and readiness;
 * - `image-tag`: a pinned tag or digest, never `latest`;
 * - `secret-literal`: no Secret carries data (ExternalSecrets create them in the cluster);
 * - `credential`: no field looks like a credential.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export function checkPolicies(objects: readonly KubeObject[]): GateFinding[] {
  const findings: GateFinding[] = [];
  for (const o of objects) {
    const id = objectId(o);
    const at = (p: Path) => `${id} ${fieldPath(p)}`;
    const templatePath = POD_TEMPLATE_PATHS[o.kind];
    if (templatePath) {
      const pod = dig(o, templatePath);
      if (pod) findings.push(...checkPod(pod, templatePath, at, o.kind === 'CronJob'));
    }
    if (o.kind === 'Secret' && o.apiVersion === 'v1') {
      for (const key of ['data', 'stringData'] as const) {
        const data = o[key];
        if (data && typeof data === 'object' && Object.keys(data).length > 0) {
          findings.push(
            finding(
              'k8s-policy',
              'secret-literal',
              at([key]),
              'a Secret must not carry literal data; fetch it with an ExternalSecret from AWS Secrets Manager',
            ),
          );
        }
      }
    }
    for (const c of findCredentials(o)) {
      findings.push(finding('k8s-policy', 'credential', at(c.path), c.message));
    }
  }
  return findings;
}

function checkPod(pod: Json, base: Path, at: (p: Path) => string, runsToCompletion = false): GateFinding[] {
  const out: GateFinding[] = [];
  const fail = (rule: string, p: Path, message: string) =>
    out.push(finding('k8s-policy', rule, at(p), message));
  const podSc = (pod.securityContext ?? {}) as Json;
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[key] === true) fail('pss-restricted', [...base, key], 'must not be true (restricted profile)');
  }
  ((pod.volumes ?? []) as Json[]).forEach((v, i) => {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !ALLOWED_VOLUMES.has(type)) {
      fail(
        'pss-restricted',
        [...base, 'volumes', i, type],
        `volume type '${type}' is not allowed (restricted profile)`,
      );
    }
  });
  const podSeccomp = (podSc.seccompProfile as Json | undefined)?.type;
  const containers = [
    ...((pod.initContainers ?? []) as Json[]).map((c, i) => ({
      c,
      p: [...base, 'initContainers', i] as Path,
      init: true,
    })),
    ...((pod.containers ?? []) as Json[]).map((c, i) => ({
      c,
      p: [...base, 'containers', i] as Path,
      init: false,
    })),
  ];
  for (const { c, p, init } of containers) {
    const sc = (c.securityContext ?? {}) as Json;
    const scp = [...p, 'securityContext'];
    if (sc.allowPrivilegeEscalation !== false) {
      fail('pss-restricted', [...scp, 'allowPrivilegeEscalation'], 'must be false (restricted profile)');
    }
    if (sc.privileged === true)
      fail('pss-restricted', [...scp, 'privileged'], 'must not be true (restricted profile)');
    const caps = (sc.capabilities ?? {}) as Json;
    if (!((caps.drop ?? []) as string[]).includes('ALL')) {
      fail('pss-restricted', [...scp, 'capabilities', 'drop'], "must include 'ALL' (restricted profile)");
    }
    const added = ((caps.add ?? []) as string[]).filter((a) => a !== 'NET_BIND_SERVICE');
    if (added.length > 0) {
      fail(
        'pss-restricted',
        [...scp, 'capabilities', 'add'],
        `may only add NET_BIND_SERVICE, got ${added.join(', ')}`,
      );
    }
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) {
      fail(
        'pss-restricted',
        [...scp, 'runAsNonRoot'],
        'must be true here or in the pod securityContext (restricted profile)',
      );
    }
    if ((sc.runAsUser ?? podSc.runAsUser) === 0)
      fail('pss-restricted', [...scp, 'runAsUser'], 'must not be 0 (root)');
    const seccomp = (sc.seccompProfile as Json | undefined)?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      fail(
        'pss-restricted',
        [...scp, 'seccompProfile', 'type'],
        "must be 'RuntimeDefault' or 'Localhost' (restricted profile)",
      );
    }
    if (sc.readOnlyRootFilesystem !== true) {
      fail(
        'pss-restricted',
        [...scp, 'readOnlyRootFilesystem'],
        'must be true; mount an emptyDir for scratch space',
      );
    }
    const res = (c.resources ?? {}) as Json;
    for (const kind of ['requests', 'limits'] as const) {
      for (const r of ['cpu', 'memory'] as const) {
        if (!(res[kind] as Json | undefined)?.[r]) {
          fail(
            'container-resources',
            [...p, 'resources', kind, r],
            `must be set: every container declares ${kind}`,
          );
        }
      }
    }
    // a CronJob's pod runs to completion and takes no traffic: activeDeadlineSeconds bounds it
    if (!init && !runsToCompletion) {
      for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
        if (!c[probe])
          fail(
            'container-probes',
            [...p, probe],
            'must be set: every container has liveness and readiness probes',
          );
      }
    }
    const image = typeof c.image === 'string' ? c.image : '';
    if (!pinned(image)) {
      fail(
        'image-tag',
        [...p, 'image'],
        `must use a pinned tag or digest, never 'latest' or none, got '${image}'`,
      );
    }
  }
  return out;
}

/** True for `repo:tag` with a tag other than `latest`, or `repo@sha256:...`. */
export function pinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return !!tag && tag !== 'latest';
}

function dig(o: unknown, path: Path): Json | undefined {
  let cur: unknown = o;
  for (const p of path) cur = cur && typeof cur === 'object' ? (cur as Json)[p as string] : undefined;
  return cur && typeof cur === 'object' ? (cur as Json) : undefined;
}
