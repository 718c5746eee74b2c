import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { ClusterSecretStore, SecretStore } from './crds/external-secrets.js';

/** Props of a {@link SecretStoreChart}. */
export interface SecretStoreChartProps extends ChartProps {
  /** AWS region of Secrets Manager. */
  readonly region: string;
  /** Namespaces allowed to read through the store. @default - every namespace */
  readonly namespaces?: readonly string[];
  /** Store name. @default 'aws-secrets-manager' */
  readonly storeName?: string;
  /**
   * IAM role of the gateway's own store ({@link naming.gatewayIdentityStore} in Kong's namespace),
   * which may read the provisioned issuer's secret and nothing else (`constructs/cluster-addons.ts`).
   *
   * @default - no gateway store (the issuer is named in platform.yaml, or there is none)
   */
  readonly gatewayIdentityRoleArn?: string;
}

/**
 * The `ClusterSecretStore` over AWS Secrets Manager that every service's ExternalSecret reads from,
 * and, for a provisioned token issuer, a `SecretStore` in Kong's namespace for the edge token check.
 *
 * Neither has credentials: the External Secrets controller authenticates with the Pod Identity
 * association of its `external-secrets` service account, which the AWS layer scopes to the
 * platform's secrets. `conditions` limit which namespaces may use the cluster store; Kong's
 * namespace is not among them, since the cluster store reads every service's database password.
 * The gateway's store instead has the controller assume a role that may read only
 * `naming.identitySecret(platform, env)`, and being namespaced, only Kong's namespace can use it.
 *
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/#eks-pod-identity
 * @see https://external-secrets.io/latest/api/secretstore/
 */
export class SecretStoreChart extends Chart {
  /** Props from the platform model: the env's region, the service and tracing namespaces. */
  public static propsFromModel(model: PlatformModel, envName: string): SecretStoreChartProps {
    const env = model.environment(envName);
    const namespaces = [...model.services.map((s) => naming.namespace(s.name)), model.spec.tracing.namespace];
    return {
      region: env.region,
      namespaces,
      gatewayIdentityRoleArn:
        model.identity?.kind === 'cognito'
          ? naming.iamRoleArn(env.account, env.region, naming.gatewayIdentityRole(model.name, envName))
          : undefined,
    };
  }

  /** The store. */
  public readonly store: ClusterSecretStore;
  /** The gateway's store of the issuer secret, when `gatewayIdentityRoleArn` is given. */
  public readonly gatewayStore?: SecretStore;

  constructor(scope: Construct, id: string, props: SecretStoreChartProps) {
    super(scope, id, props);
    this.store = new ClusterSecretStore(this, 'Store', {
      metadata: { name: props.storeName ?? 'aws-secrets-manager' },
      spec: {
        provider: { aws: { service: 'SecretsManager', region: props.region } },
        ...(props.namespaces ? { conditions: [{ namespaces: [...props.namespaces].sort() }] } : {}),
      },
    });
    if (props.gatewayIdentityRoleArn) {
      this.gatewayStore = new SecretStore(this, 'GatewayIdentityStore', {
        metadata: { name: naming.gatewayIdentityStore, namespace: naming.gatewayNamespace },
        spec: {
          provider: {
            aws: { service: 'SecretsManager', region: props.region, role: props.gatewayIdentityRoleArn },
          },
        },
      });
    }
  }
}
