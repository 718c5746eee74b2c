import { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';

/** One step of the apply order: a file in `dist/<env>/k8s/` and an Argo CD sync wave. */
export interface ApplyStage {
  /** The Argo CD sync wave, and the order in which files are applied. */
  readonly wave: number;
  /** File name, prefixed with the order number. */
  readonly file: string;
  /** The kinds applied in this step. */
  readonly kinds: readonly string[];
}

/**
 * The apply order. Namespaces first; then identities and cluster-wide config; then mesh policy
 * (so default-deny and mTLS exist before any pod takes traffic); then secrets; then workloads;
 * and the edge last, so a route only shifts traffic once its backends are up.
 *
 * CRDs are not here: the add-ons (Istio, Gateway API, External Secrets, Kong) install them before
 * this app syncs (see docs/k8s-layer.md).
 */
export const APPLY_STAGES: readonly ApplyStage[] = [
  { wave: 0, file: '00-namespaces.yaml', kinds: ['Namespace'] },
  {
    wave: 1,
    file: '01-identity.yaml',
    kinds: ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterSecretStore', 'SecretStore', 'GatewayClass'],
  },
  {
    wave: 2,
    file: '02-mesh-policy.yaml',
    kinds: [
      'PeerAuthentication',
      'AuthorizationPolicy',
      'DestinationRule',
      'VirtualService',
      'ServiceEntry',
      'Telemetry',
      'NetworkPolicy',
    ],
  },
  { wave: 3, file: '03-secrets.yaml', kinds: ['ExternalSecret', 'ConfigMap', 'PersistentVolumeClaim'] },
  {
    wave: 4,
    file: '04-workloads.yaml',
    kinds: ['Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'CronJob'],
  },
  {
    wave: 5,
    file: '05-gateway.yaml',
    kinds: ['ReferenceGrant', 'Gateway', 'KongClusterPlugin', 'KongPlugin', 'KongConsumer', 'HTTPRoute'],
  },
];

/** Where objects of a kind no stage lists go (the schema gate rejects them anyway). */
export const UNCLASSIFIED_STAGE: ApplyStage = { wave: 9, file: '99-unclassified.yaml', kinds: [] };

/** The stage of a kind. */
export function applyStage(kind: string): ApplyStage {
  return APPLY_STAGES.find((s) => s.kinds.includes(kind)) ?? UNCLASSIFIED_STAGE;
}

const BUILT_IN_GROUPS =
  /^(v1|(apps|autoscaling|policy|batch|networking\.k8s\.io|rbac\.authorization\.k8s\.io)\/.+)$/;

/** True when the kind comes from a CRD (its API group is not built into Kubernetes). */
export function isCrdBacked(apiVersion: string): boolean {
  return !BUILT_IN_GROUPS.test(apiVersion);
}

/** Argo CD annotation keys used here. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
export const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';

/**
 * Annotates every object under `scope` with its Argo CD sync wave; CRD-backed objects also get
 * `SkipDryRunOnMissingResource=true`, so a first sync does not fail its dry run while the add-on's
 * CRD is still being created.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export function annotateApplyOrder(scope: IConstruct): void {
  for (const c of scope.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    c.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(applyStage(c.kind).wave));
    if (isCrdBacked(c.apiVersion))
      c.metadata.addAnnotation(SYNC_OPTIONS_ANNOTATION, 'SkipDryRunOnMissingResource=true');
  }
}

/** A Kubernetes object as synthesized. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** `kind/namespace/name` (`kind/-/name` for cluster-scoped objects): how gates and tests name objects. */
export function objectId(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name ?? '?'}`;
}

/** Groups objects by stage, in apply order; within a stage, sorted by kind order, namespace, name. */
export function orderManifests(
  objects: readonly KubeObject[],
): { stage: ApplyStage; objects: KubeObject[] }[] {
  const stages = [...APPLY_STAGES, UNCLASSIFIED_STAGE];
  return stages
    .map((stage) => ({
      stage,
      objects: objects
        .filter((o) => applyStage(o.kind) === stage)
        .sort(
          (a, b) =>
            stage.kinds.indexOf(a.kind) - stage.kinds.indexOf(b.kind) ||
            a.kind.localeCompare(b.kind) ||
            (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
            (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
        ),
    }))
    .filter((g) => g.objects.length > 0);
}
