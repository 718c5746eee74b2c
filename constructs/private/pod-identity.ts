import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Properties for {@link PodIdentityRole}. */
export interface PodIdentityRoleProps {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** Namespace of the service account. */
  readonly namespace: string;
  /** Name of the service account. */
  readonly serviceAccount: string;
  /** Description of the role. */
  readonly description: string;
}

/**
 * An IAM role that EKS Pod Identity hands to one Kubernetes service account, and its association.
 *
 * The trust policy names only the Pod Identity service principal; the association pins the role
 * to exactly one namespace and service account.
 *
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html
 */
export class PodIdentityRole extends Construct {
  /** The role the pods assume. */
  public readonly role: iam.Role;
  /** The association of the role with the namespace and service account. */
  public readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
    });
    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.roleArn,
    });
  }
}
