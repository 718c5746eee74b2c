import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { naming } from '../model/index.js';
import { acknowledge } from './private/acknowledge.js';
import { PodIdentityRole } from './private/pod-identity.js';

/** Properties for {@link ServiceIdentity}. */
export interface ServiceIdentityProps {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** The service: its pods run as service account `<svc>` in namespace `<svc>`. */
  readonly service: string;
  /**
   * ARNs of the service's own secrets (database, cache).
   *
   * @default - none
   */
  readonly secretArns?: readonly string[];
  /**
   * The service's own repository.
   *
   * @default - no registry permission
   */
  readonly repository?: ecr.IRepository;
}

/**
 * The AWS identity of a service's pods: an IAM role bound by an EKS Pod Identity association to
 * service account `<svc>` in namespace `<svc>`.
 *
 * The role may read only the service's own secrets and pull only its own repository. Add more with
 * `role.addToPolicy()`.
 *
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
 */
export class ServiceIdentity extends Construct {
  /** The role the service's pods assume. */
  public readonly role: iam.Role;
  /** The Pod Identity association. */
  public readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: ServiceIdentityProps) {
    super(scope, id);
    const identity = new PodIdentityRole(this, 'Resource', {
      clusterName: props.clusterName,
      namespace: naming.namespace(props.service),
      serviceAccount: naming.serviceAccount(props.service),
      description: `${props.service} pods (namespace ${naming.namespace(props.service)})`,
    });
    this.role = identity.role;
    this.association = identity.association;
    const secretArns = props.secretArns ?? [];
    if (secretArns.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [...secretArns],
        }),
      );
    }
    if (props.repository) {
      props.repository.grantPull(this.role);
      acknowledge(
        this.role,
        ['AwsSolutions-IAM5[Resource::*]'],
        'ecr:GetAuthorizationToken has no resource-level permissions; the pull actions themselves are limited to the service repository',
      );
    }
  }
}
