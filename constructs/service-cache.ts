import { Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { acknowledge } from './private/acknowledge.js';

/** The port every service cache listens on (not the default 6379, per AwsSolutions-AEC5). */
export const CACHE_PORT = naming.cachePort;

/** Properties for {@link ServiceCache}. */
export interface ServiceCacheProps {
  /** The VPC; nodes go in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** Platform name (secret name prefix). */
  readonly platform: string;
  /** Environment name (secret name prefix). */
  readonly environment: string;
  /** The service that owns this cache. */
  readonly service: string;
  /** The only security group admitted on the cache port: the EKS cluster's. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /**
   * Production settings: two replicas in other AZs, Multi-AZ with automatic failover.
   *
   * @default false
   */
  readonly production?: boolean;
  /**
   * Node type.
   *
   * @default 'cache.t4g.small'
   */
  readonly nodeType?: string;
  /**
   * Daily snapshots to keep (0 disables them).
   *
   * @default - 7 in production, 0 otherwise
   */
  readonly snapshotRetentionDays?: number;
  /**
   * What happens to the generated AUTH token secret when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A service's own Valkey replication group (ElastiCache), with TLS in transit, encryption at rest
 * and an AUTH token generated in Secrets Manager.
 *
 * The connection secret `<platform>/<env>/<svc>/redis` holds `{ host, port, tls, password }` (the
 * AUTH token under `password`, the key the Kubernetes layer's `REDIS_URL` template reads):
 * CloudFormation resolves the token into it, so pods read one secret and no value appears in a
 * template. Production runs two replicas with Multi-AZ automatic failover.
 *
 * Failover can drop acknowledged writes (replication is asynchronous), so the durable record of
 * anything that matters (inventory stock) stays in the service's Postgres and Redis is rebuilt from
 * it; see docs/aws-layer.md.
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export class ServiceCache extends Construct {
  /** The replication group. */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The security group of the cache nodes. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The secret that pods read: host, port, tls, password (the AUTH token). */
  public readonly connectionSecret: secretsmanager.CfnSecret;
  /** The generated AUTH token (referenced by the replication group and the connection secret). */
  public readonly authToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ServiceCacheProps) {
    super(scope, id);
    const production = props.production ?? false;
    const snapshotRetention = props.snapshotRetentionDays ?? (production ? 7 : 0);
    if (!Number.isInteger(snapshotRetention) || snapshotRetention < 0 || snapshotRetention > 35) {
      throw new ValidationError(
        `'snapshotRetentionDays' must be an integer from 0 to 35, got ${snapshotRetention}`,
        { path: this.node.path },
      );
    }
    const subnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.service} cache: the EKS cluster only`,
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(CACHE_PORT), 'EKS cluster');

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `${props.service} cache subnets`,
      subnetIds: subnets.subnetIds,
    });

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: `${props.service} cache AUTH token`,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'authToken',
        // AUTH tokens allow printable ASCII except these.
        excludeCharacters: '@"/\\\' %&`',
        passwordLength: 64,
      },
    });
    acknowledge(
      this.authToken,
      ['AwsSolutions-SMG4'],
      'an ElastiCache AUTH token is rotated with ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE then SET) so clients keep working during the change; Secrets Manager rotation cannot do that two-step change, see docs/security.md',
    );

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: `${props.platform} ${props.environment} ${props.service} cache`,
      engine: 'valkey',
      engineVersion: '8.0',
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      port: CACHE_PORT,
      numNodeGroups: 1,
      replicasPerNodeGroup: production ? 2 : 0,
      automaticFailoverEnabled: production,
      multiAzEnabled: production,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: this.authToken.secretValueFromJson('authToken').unsafeUnwrap(),
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      snapshotRetentionLimit: snapshotRetention,
      autoMinorVersionUpgrade: true,
    });
    if (!production) {
      acknowledge(
        this.replicationGroup,
        ['AwsSolutions-AEC4'],
        'dev (size small) runs a single cache node to save cost; the data is rebuilt from the service Postgres, and prod (size ha) is Multi-AZ with automatic failover',
      );
    }

    const endpoint = this.replicationGroup.attrPrimaryEndPointAddress;
    this.connectionSecret = new secretsmanager.CfnSecret(this, 'Connection', {
      name: naming.cacheSecret(props.platform, props.environment, props.service),
      description: `${props.service} cache connection (host, port, tls, password = AUTH token)`,
      secretString: Fn.join('', [
        '{"host":"',
        endpoint,
        `","port":${CACHE_PORT},"tls":true,"password":"`,
        SecretValue.secretsManager(this.authToken.secretArn, { jsonField: 'authToken' }).unsafeUnwrap(),
        '"}',
      ]),
    });
    this.connectionSecret.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    acknowledge(
      this.connectionSecret,
      ['AwsSolutions-SMG4'],
      'the connection secret copies the AUTH token that CloudFormation resolves from the generated token secret; it changes whenever the token changes, see the AuthToken acknowledgement',
    );
  }
}
