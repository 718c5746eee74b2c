import * as eksL1 from 'aws-cdk-lib/aws-eks';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IDependable } from 'constructs';
import { acknowledge } from './private/acknowledge.js';

/** The StorageClass the driver's volumes get by default: gp3, encrypted. */
export const DEFAULT_STORAGE_CLASS = 'gp3-encrypted';

/** Properties for {@link EbsCsiDriver}. */
export interface EbsCsiDriverProps {
  /** The cluster. */
  readonly cluster: eks.Cluster;
  /**
   * What the add-on waits for: the Pod Identity agent (credentials) and the nodes (its pods).
   *
   * @default - nothing
   */
  readonly after?: readonly IDependable[];
  /**
   * Add-on version, e.g. `v1.48.0-eksbuild.1`.
   *
   * @default - the default version EKS picks for the cluster's Kubernetes version at creation
   */
  readonly addonVersion?: string;
  /**
   * Create the encrypted gp3 StorageClass {@link DEFAULT_STORAGE_CLASS} and make it the default.
   *
   * @default true
   */
  readonly defaultStorageClass?: boolean;
}

/**
 * The Amazon EBS CSI driver as an EKS managed add-on, with its controller's AWS credentials from
 * EKS Pod Identity (service account `kube-system/ebs-csi-controller-sa`), and a default
 * StorageClass whose volumes are gp3 and encrypted. With it, a PersistentVolumeClaim without a
 * storage class (Jaeger's badger volume in dev) gets an encrypted EBS volume.
 *
 * @see https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html
 */
export class EbsCsiDriver extends Construct {
  /** The controller's role (AWS managed `AmazonEBSCSIDriverPolicy`). */
  public readonly role: iam.Role;
  /** The managed add-on. */
  public readonly addon: eksL1.CfnAddon;
  /** The default StorageClass, when created. */
  public readonly storageClass?: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: EbsCsiDriverProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: 'EBS CSI driver controller (EKS Pod Identity): creates, attaches and deletes EBS volumes',
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy')],
    });
    acknowledge(
      this.role,
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
      ],
      'the policy AWS documents and maintains for the EBS CSI driver; its volume and snapshot writes are conditioned on the tags the driver sets, and only the controller service account can assume the role (Pod Identity association)',
    );
    this.addon = new eksL1.CfnAddon(this, 'Resource', {
      clusterName: props.cluster.clusterName,
      addonName: 'aws-ebs-csi-driver',
      addonVersion: props.addonVersion,
      resolveConflicts: 'OVERWRITE',
      podIdentityAssociations: [{ roleArn: this.role.roleArn, serviceAccount: 'ebs-csi-controller-sa' }],
    });
    for (const dep of props.after ?? []) this.addon.node.addDependency(dep);

    if (props.defaultStorageClass ?? true) {
      this.storageClass = props.cluster.addManifest('DefaultStorageClass', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name: DEFAULT_STORAGE_CLASS,
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: 'ebs.csi.aws.com',
        parameters: { type: 'gp3', encrypted: 'true' },
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
      });
      this.storageClass.node.addDependency(this.addon);
    }
  }
}
