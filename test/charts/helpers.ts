import { Testing, type Chart } from 'cdk8s';
import type { KubeObject } from '../../charts/index.js';
import type { PlatformModel } from '../../model/index.js';
import { fixtureModel } from '../fixtures/platform.js';

/** The frozen platform fixture (a copy of the reference platform.yaml), never the live file. */
export function referenceModel(): PlatformModel {
  return fixtureModel();
}

/** Synthesizes a chart and returns its objects. */
export function synth(chart: Chart): KubeObject[] {
  return Testing.synth(chart) as KubeObject[];
}

/** The object of `kind` called `name` (and in `namespace`, when given); fails the test if absent. */
export function find(
  objects: readonly KubeObject[],
  kind: string,
  name: string,
  namespace?: string,
): KubeObject {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      x.metadata.name === name &&
      (namespace === undefined || x.metadata.namespace === namespace),
  );
  if (!o) throw new Error(`no ${kind} ${namespace ?? '*'}/${name} among ${objects.length} objects`);
  return o;
}

/** Reads a nested field. */
export function at<T = unknown>(o: unknown, ...path: (string | number)[]): T {
  return path.reduce<unknown>((cur, p) => (cur as Record<string | number, unknown> | undefined)?.[p], o) as T;
}

/** A container's environment variable as a manifest declares it. */
export interface DeclaredEnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}

/** The environment of the edge's key-sync CronJob (`issuer-key-sync` in `kong`), as declared. */
export function keySyncEnv(objects: readonly KubeObject[]): DeclaredEnvVar[] {
  return at<DeclaredEnvVar[]>(
    find(objects, 'CronJob', 'issuer-key-sync', 'kong'),
    'spec',
    'jobTemplate',
    'spec',
    'template',
    'spec',
    'containers',
    0,
    'env',
  );
}

/** `METHOD path` for every operation an ALLOW policy grants, sorted. */
export function grants(policy: KubeObject): string[] {
  const rules = at<{ to?: { operation: { methods: string[]; paths: string[] } }[] }[]>(
    policy,
    'spec',
    'rules',
  );
  return rules
    .flatMap((r) =>
      (r.to ?? []).flatMap((t) =>
        t.operation.paths.flatMap((p) => t.operation.methods.map((m) => `${m} ${p}`)),
      ),
    )
    .sort();
}
