import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { acknowledge } from './private/acknowledge.js';

/** The port every service database listens on. */
export const DATABASE_PORT = naming.databasePort;

/** Properties for {@link ServiceDatabase}. */
export interface ServiceDatabaseProps {
  /** The VPC; the cluster goes in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** Platform name (secret name prefix). */
  readonly platform: string;
  /** Environment name (secret name prefix). */
  readonly environment: string;
  /** The service that owns this database. */
  readonly service: string;
  /** The only security group admitted on 5432: the EKS cluster's. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /**
   * Production settings: a reader in another AZ, deletion protection, snapshot on removal.
   *
   * @default false
   */
  readonly production?: boolean;
  /**
   * Days of automated backups.
   *
   * @default - 14 days in production, 1 day otherwise
   */
  readonly backupRetention?: Duration;
  /**
   * Aurora capacity units.
   *
   * @default { min: 0.5, max: 4 }
   */
  readonly capacity?: { readonly min: number; readonly max: number };
  /**
   * What happens to the cluster when the stack is deleted.
   *
   * @default - SNAPSHOT in production, DESTROY otherwise
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A service's own Aurora PostgreSQL Serverless v2 cluster: physical separation per service.
 *
 * - Storage encryption, IAM database authentication, Performance Insights, `postgresql` logs.
 * - Master credentials in Secrets Manager under `<platform>/<env>/<svc>/database` (JSON with host,
 *   port, dbname, username, password), rotated every 30 days.
 * - A security group that admits only the EKS cluster on 5432.
 * - Production: a reader in another AZ, deletion protection, a snapshot when removed.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.html
 */
export class ServiceDatabase extends Construct {
  /** The Aurora cluster. */
  public readonly cluster: rds.DatabaseCluster;
  /** Name of the database inside the cluster. */
  public readonly databaseName: string;
  /**
   * The master credentials, `<platform>/<env>/<svc>/database`: `username`, `password`, `dbname`
   * from the generated secret, `host`, `port`, `engine`, `dbClusterIdentifier` from the attachment.
   */
  public readonly secret: rds.DatabaseSecret;

  constructor(scope: Construct, id: string, props: ServiceDatabaseProps) {
    super(scope, id);
    const production = props.production ?? false;
    const capacity = props.capacity ?? { min: 0.5, max: 4 };
    if (!(capacity.min >= 0 && capacity.min <= capacity.max && capacity.max <= 256)) {
      throw new ValidationError(
        `'capacity' must satisfy 0 <= min <= max <= 256 ACUs, got min ${capacity.min}, max ${capacity.max}`,
        { path: this.node.path },
      );
    }
    const backupRetention = props.backupRetention ?? Duration.days(production ? 14 : 1);
    const days = backupRetention.toDays();
    if (days < 1 || days > 35) {
      throw new ValidationError(`'backupRetention' must be from 1 to 35 days, got ${days}`, {
        path: this.node.path,
      });
    }
    this.databaseName = naming.databaseName(props.service);
    // Our own DatabaseSecret: the one `Credentials.fromGeneratedSecret` makes has no `dbname`, and
    // the secret attachment adds only engine, host, port and dbClusterIdentifier, while the
    // Kubernetes layer's DATABASE_URL template reads username, password, host, port and dbname.
    this.secret = new rds.DatabaseSecret(this, 'Secret', {
      username: 'postgres',
      dbname: this.databaseName,
      secretName: naming.databaseSecret(props.platform, props.environment, props.service),
    });

    this.cluster = new rds.DatabaseCluster(this, 'Resource', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_16_10,
      }),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      port: DATABASE_PORT,
      defaultDatabaseName: this.databaseName,
      credentials: rds.Credentials.fromSecret(this.secret),
      writer: rds.ClusterInstance.serverlessV2('Writer', { enablePerformanceInsights: true }),
      readers: production
        ? [
            rds.ClusterInstance.serverlessV2('Reader', {
              scaleWithWriter: true,
              enablePerformanceInsights: true,
            }),
          ]
        : [],
      serverlessV2MinCapacity: capacity.min,
      serverlessV2MaxCapacity: capacity.max,
      storageEncrypted: true,
      iamAuthentication: true,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
      backup: { retention: backupRetention },
      deletionProtection: production,
      removalPolicy: props.removalPolicy ?? (production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY),
    });
    this.cluster.connections.allowDefaultPortFrom(props.clientSecurityGroup, 'EKS cluster (pods and nodes)');
    this.cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30) });
    if (!production) {
      acknowledge(
        this.cluster,
        ['AwsSolutions-RDS10'],
        'dev (size small) databases hold disposable test data and are torn down with the environment; prod (size ha) has deletion protection and a snapshot removal policy',
      );
    }
  }
}
