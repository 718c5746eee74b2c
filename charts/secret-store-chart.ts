import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { ClusterSecretStore } from './crds/external-secrets.js';

/** Props of a {@link SecretStoreChart}. */
export interface SecretStoreChartProps extends ChartProps {
  /** AWS region of Secrets Manager. */
  readonly region: string;
  /** Namespaces allowed to read through the store. @default - every namespace */
  readonly namespaces?: readonly string[];
  /** Store name. @default 'aws-secrets-manager' */
  readonly storeName?: string;
}

/**
 * The `ClusterSecretStore` over AWS Secrets Manager that every ExternalSecret reads from. It has
 * no credentials: the External Secrets controller authenticates with the Pod Identity
 * association of its `external-secrets` service account, which the AWS layer scopes to the
 * platform's secrets. `conditions` limit which namespaces may use it.
 *
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/#eks-pod-identity
 */
export class SecretStoreChart extends Chart {
  /** Props from the platform model: the env's region, the service and tracing namespaces. */
  public static propsFromModel(model: PlatformModel, envName: string): SecretStoreChartProps {
    const env = model.environment(envName);
    const namespaces = [...model.services.map((s) => naming.namespace(s.name)), model.spec.tracing.namespace];
    return { region: env.region, namespaces };
  }

  /** The store. */
  public readonly store: ClusterSecretStore;

  constructor(scope: Construct, id: string, props: SecretStoreChartProps) {
    super(scope, id, props);
    this.store = new ClusterSecretStore(this, 'Store', {
      metadata: { name: props.storeName ?? 'aws-secrets-manager' },
      spec: {
        provider: { aws: { service: 'SecretsManager', region: props.region } },
        ...(props.namespaces ? { conditions: [{ namespaces: [...props.namespaces].sort() }] } : {}),
      },
    });
  }
}
