import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ClusterAddons, type ClusterAddonsProps } from './cluster-addons.js';
import { PlatformCluster, type PlatformClusterProps } from './platform-cluster.js';

/** Properties for {@link ClusterStack}. */
export interface ClusterStackProps extends StackProps {
  /** The cluster to create. */
  readonly cluster: PlatformClusterProps;
  /** The add-ons to install (everything but the cluster itself). */
  readonly addons: Omit<ClusterAddonsProps, 'cluster'>;
}

/**
 * The EKS cluster of an environment and its add-ons. Service stacks import the cluster's name and
 * security group, so adding or changing a service never updates this stack.
 */
export class ClusterStack extends Stack {
  /** The cluster construct. */
  public readonly platformCluster: PlatformCluster;
  /** The add-ons. */
  public readonly addons: ClusterAddons;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    this.platformCluster = new PlatformCluster(this, 'Cluster', props.cluster);
    this.addons = new ClusterAddons(this, 'Addons', {
      ...props.addons,
      cluster: this.platformCluster.cluster,
    });
  }
}
