import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { ServiceModel } from '../model/index.js';
import type { SizeProfile } from './private/profile.js';
import { ServiceCache } from './service-cache.js';
import { ServiceDatabase } from './service-database.js';
import { ServiceIdentity } from './service-identity.js';
import { ServiceRegistry } from './service-registry.js';

/** Properties for {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  readonly platform: string;
  readonly environment: string;
  readonly service: ServiceModel;
  readonly profile: SizeProfile;
  /** The environment's VPC (from the network stack). */
  readonly vpc: ec2.IVpc;
  /** The EKS cluster name (from the cluster stack). */
  readonly clusterName: string;
  /** The EKS cluster security group (from the cluster stack): the only client of data stores. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
}

/**
 * Everything one service owns in AWS: its registry, its Postgres cluster and cache when it declares
 * them, and the Pod Identity role that may read only its secrets. One stack per service keeps each
 * stack far below CloudFormation's 500-resource limit and means that changing one service's database
 * updates only that service's stack.
 */
export class ServiceStack extends Stack {
  public readonly registry: ServiceRegistry;
  public readonly database?: ServiceDatabase;
  public readonly cache?: ServiceCache;
  public readonly identity: ServiceIdentity;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { service: svc, profile } = props;
    const common = {
      vpc: props.vpc,
      platform: props.platform,
      environment: props.environment,
      service: svc.name,
      clientSecurityGroup: props.clusterSecurityGroup,
      production: profile.production,
    };
    this.registry = new ServiceRegistry(this, 'Registry', { platform: props.platform, service: svc.name });
    const secretArns: string[] = [];
    if (svc.database === 'postgres') {
      this.database = new ServiceDatabase(this, 'Database', {
        ...common,
        backupRetention: profile.backupRetention,
        capacity: profile.databaseCapacity,
        removalPolicy: profile.removalPolicy,
      });
      secretArns.push(this.database.cluster.secret!.secretArn);
    }
    if (svc.cache === 'redis') {
      this.cache = new ServiceCache(this, 'Cache', { ...common, nodeType: profile.cacheNodeType });
      secretArns.push(this.cache.connectionSecret.ref);
    }
    this.identity = new ServiceIdentity(this, 'Identity', {
      clusterName: props.clusterName,
      service: svc.name,
      secretArns,
      repository: this.registry.repository,
    });
  }
}
