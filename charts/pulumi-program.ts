import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { orderManifests, type KubeObject } from './apply-order.js';

/** Options of {@link deployManifests}. */
export interface DeployManifestsOptions {
  /** The Kubernetes provider. @default - the stack's default provider (kubeconfig context) */
  readonly provider?: k8s.Provider;
  /** Resources the first stage waits for, e.g. the add-on Helm releases that install the CRDs. @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
}

/**
 * Deploys synthesized objects with Pulumi: one `yaml.ConfigGroup` (v1, with `objs`) per apply
 * stage, each depending on the previous one, so namespaces exist before anything in them and
 * CRD-backed kinds come after the stage (and add-ons) they need. The same order as the files in
 * `dist/<env>/k8s` and the Argo CD sync waves.
 *
 * @see https://www.pulumi.com/registry/packages/kubernetes/api-docs/yaml/configgroup/
 */
export function deployManifests(
  objects: readonly KubeObject[],
  options: DeployManifestsOptions = {},
): k8s.yaml.ConfigGroup[] {
  let previous: readonly pulumi.Resource[] = options.dependsOn ?? [];
  return orderManifests(objects).map(({ stage, objects: objs }) => {
    const group = new k8s.yaml.ConfigGroup(
      `k8s-${stage.file.replace(/\.yaml$/, '')}`,
      { objs: objs as unknown as object[] },
      { dependsOn: [...previous], ...(options.provider ? { provider: options.provider } : {}) },
    );
    previous = [group];
    return group;
  });
}
