import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { ServiceModel } from '../model/index.js';
import type { SizeProfile } from './private/profile.js';
import { ServiceCache } from './service-cache.js';
import { ServiceDatabase } from './service-database.js';
import { ServiceIdentity } from './service-identity.js';
import { ServiceRegistry } from './service-registry.js';

export type { SizeProfile } from './private/profile.js';

/** Properties for {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  /** Platform name: prefixes secret and repository names. */
  readonly platform: string;
  /** Environment name: part of the secret names. */
  readonly environment: string;
  /** The service, as the model defines it (`database`, `cache`, `owner`). */
  readonly service: ServiceModel;
  /** The environment's size profile: dev or prod settings of the data stores. */
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
  /** The service's ECR repository. */
  public readonly registry: ServiceRegistry;
  /** The service's Aurora cluster, when it declares `database: postgres`. */
  public readonly database?: ServiceDatabase;
  /** The service's cache, when it declares `cache: redis`. */
  public readonly cache?: ServiceCache;
  /** The Pod Identity role of the service's pods. */
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
