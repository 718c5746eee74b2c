import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ClusterAddons, type ClusterAddonsProps } from './cluster-addons.js';
import { PlatformCluster, type PlatformClusterProps } from './platform-cluster.js';
import { TracingStore, type TracingStoreProps } from './tracing-store.js';

/** Properties for {@link ClusterStack}. */
export interface ClusterStackProps extends StackProps {
  /** The cluster to create. */
  readonly cluster: PlatformClusterProps;
  /** The add-ons to install (everything but the cluster itself). */
  readonly addons: Omit<ClusterAddonsProps, 'cluster'>;
  /**
   * The OpenSearch domain Jaeger stores spans in, for environments with `tracingStorage: opensearch`.
   * It admits the cluster security group and is named after `addons.platform`/`addons.environment`.
   *
   * @default - no domain (Jaeger keeps spans in badger or memory)
   */
  readonly tracingStore?: Omit<TracingStoreProps, 'vpc' | 'platform' | 'environment' | 'clientSecurityGroup'>;
}

/**
 * The EKS cluster of an environment, its add-ons and, with `tracingStore`, Jaeger's OpenSearch
 * domain (cluster-wide infrastructure, so it is not in a service stack). Service stacks import the cluster's name and
 * security group, so adding or changing a service never updates this stack.
 */
export class ClusterStack extends Stack {
  /** The cluster construct. */
  public readonly platformCluster: PlatformCluster;
  /** The add-ons. */
  public readonly addons: ClusterAddons;
  /** Jaeger's OpenSearch domain, when `tracingStore` is set. */
  public readonly tracingStore?: TracingStore;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    this.platformCluster = new PlatformCluster(this, 'Cluster', props.cluster);
    this.addons = new ClusterAddons(this, 'Addons', {
      ...props.addons,
      cluster: this.platformCluster.cluster,
    });
    if (props.tracingStore) {
      this.tracingStore = new TracingStore(this, 'TracingStore', {
        ...props.tracingStore,
        vpc: props.cluster.vpc,
        platform: props.addons.platform,
        environment: props.addons.environment,
        clientSecurityGroup: this.platformCluster.cluster.clusterSecurityGroup,
      });
    }
  }
}
