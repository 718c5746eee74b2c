import type { IClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import type { IExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import type { ISecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore';
import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps, type GroupVersionKind } from './custom-object.js';

/**
 * External Secrets `ClusterSecretStore`. With no `auth` block the controller uses its own AWS
 * identity: the Pod Identity association of the `external-secrets` service account.
 *
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/
 */
export class ClusterSecretStore extends CustomObject<IClusterSecretStore> {
  public static readonly GVK: GroupVersionKind<IClusterSecretStore> = {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IClusterSecretStore>) {
    super(scope, id, ClusterSecretStore.GVK, props);
  }
}

/**
 * External Secrets `SecretStore`: a store that only ExternalSecrets of its own namespace can use.
 * With `role`, the controller assumes that IAM role (from its own Pod Identity) for every read.
 *
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/
 */
export class SecretStore extends CustomObject<ISecretStore> {
  public static readonly GVK: GroupVersionKind<ISecretStore> = {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<ISecretStore>) {
    super(scope, id, SecretStore.GVK, props);
  }
}

/**
 * External Secrets `ExternalSecret`: copies an AWS Secrets Manager secret into a Kubernetes
 * Secret in the cluster, so no value ever appears in a manifest. Its `target.template` holds Go
 * templates over the fetched keys, rendered in the cluster, never here.
 *
 * @see https://external-secrets.io/latest/api/externalsecret/
 */
export class ExternalSecret extends CustomObject<IExternalSecret> {
  public static readonly GVK: GroupVersionKind<IExternalSecret> = {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
  };

  constructor(scope: Construct, id: string, props: CustomObjectProps<IExternalSecret>) {
    super(scope, id, ExternalSecret.GVK, props);
  }
}
