import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CustomerIdentity, type CustomerIdentityProps } from './customer-identity.js';

/** Properties for {@link IdentityStack}. */
export interface IdentityStackProps extends StackProps {
  /** The user pool to create. */
  readonly identity: CustomerIdentityProps;
}

/**
 * `<platform>-<env>-identity`: the customers' user pool, for `identity: { provision: cognito }`.
 *
 * Its own stack because it has its own lifecycle: customer accounts outlive any cluster, the pool is
 * retained and deletion-protected in production, and nothing else in the environment refers to it
 * by a CloudFormation reference (the gateway and the services read its issuer secret at run time).
 */
export class IdentityStack extends Stack {
  /** The user pool, its client and the issuer it publishes. */
  public readonly identity: CustomerIdentity;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    this.identity = new CustomerIdentity(this, 'CustomerIdentity', props.identity);
  }
}
