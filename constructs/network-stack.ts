import { Stack, Token, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { PlatformNetwork, type PlatformNetworkProps } from './platform-network.js';
import { availabilityZonesOf } from './private/availability-zones.js';

/** Properties for {@link NetworkStack}. */
export interface NetworkStackProps extends StackProps {
  /** The network to create. */
  readonly network: PlatformNetworkProps;
}

/**
 * The network of an environment: the VPC, its flow logs and endpoints. It changes rarely, and the
 * cluster and service stacks import its subnets.
 */
export class NetworkStack extends Stack {
  /** The network construct. */
  public readonly network: PlatformNetwork;
  /** The VPC, for the stacks that depend on this one. */
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    // Vpc checks explicit zones against the stack's zones, a context lookup that needs AWS
    // credentials. Answer it from the same list, so synthesis works offline and never falls back
    // to dummy zones.
    const zones =
      props.network.availabilityZones ??
      availabilityZonesOf(this.region, props.network.maxAzs ?? 2, this.node.path);
    if (!Token.isUnresolved(this.region) && !Token.isUnresolved(this.account)) {
      this.node.setContext(`availability-zones:account=${this.account}:region=${this.region}`, zones);
    }
    this.network = new PlatformNetwork(this, 'Network', { ...props.network, availabilityZones: zones });
    this.vpc = this.network.vpc;
  }
}
