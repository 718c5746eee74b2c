import type { Construct } from 'constructs';
import { CustomObject, type CustomObjectProps } from './custom-object.js';

const API_VERSION = 'external-secrets.io/v1';

/** Spec of a `ClusterSecretStore` backed by AWS Secrets Manager. */
export interface ClusterSecretStoreSpec {
  readonly provider: {
    readonly aws: { readonly service: 'SecretsManager'; readonly region: string };
  };
  /** Namespaces allowed to use the store. @default - every namespace */
  readonly conditions?: readonly { readonly namespaces: readonly string[] }[];
}

/**
 * External Secrets `ClusterSecretStore`. With no `auth` block the controller uses its own AWS
 * identity: the Pod Identity association of the `external-secrets` service account.
 *
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/
 */
export class ClusterSecretStore extends CustomObject<ClusterSecretStoreSpec> {
  public static readonly GVK = { apiVersion: API_VERSION, kind: 'ClusterSecretStore' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<ClusterSecretStoreSpec>) {
    super(scope, id, ClusterSecretStore.GVK, props);
  }
}

/** Spec of an `ExternalSecret`. */
export interface ExternalSecretSpec {
  readonly refreshInterval?: string;
  readonly secretStoreRef: { readonly kind: 'ClusterSecretStore' | 'SecretStore'; readonly name: string };
  readonly target: {
    readonly name: string;
    readonly creationPolicy?: 'Owner' | 'Orphan' | 'Merge' | 'None';
    /** Go templates over the fetched keys; values are rendered in the cluster, never here. */
    readonly template?: { readonly engineVersion: 'v2'; readonly data: Readonly<Record<string, string>> };
  };
  /** Fetch every key of a JSON secret. */
  readonly dataFrom: readonly { readonly extract: { readonly key: string } }[];
}

/**
 * External Secrets `ExternalSecret`: copies an AWS Secrets Manager secret into a Kubernetes
 * Secret in the cluster, so no value ever appears in a manifest.
 *
 * @see https://external-secrets.io/latest/api/externalsecret/
 */
export class ExternalSecret extends CustomObject<ExternalSecretSpec> {
  public static readonly GVK = { apiVersion: API_VERSION, kind: 'ExternalSecret' } as const;

  constructor(scope: Construct, id: string, props: CustomObjectProps<ExternalSecretSpec>) {
    super(scope, id, ExternalSecret.GVK, props);
  }
}
