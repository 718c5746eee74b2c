import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { acknowledge } from './private/acknowledge.js';

/** The user Jaeger signs in as (the fine-grained access control master user). */
export const TRACING_STORE_USER = 'jaeger';

/** Properties for {@link TracingStore}. */
export interface TracingStoreProps {
  /** The VPC; the domain's nodes go in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** Platform name (domain and secret name). */
  readonly platform: string;
  /** Environment name (domain and secret name). */
  readonly environment: string;
  /** The only security group admitted on 443: the EKS cluster's (Jaeger runs in the cluster). */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /**
   * Production settings: three data nodes over three AZs (zone awareness, Multi-AZ with standby)
   * and three dedicated master nodes.
   *
   * @default false
   */
  readonly highAvailability?: boolean;
  /**
   * Data node instance type.
   *
   * @default - 'r7g.large.search' with highAvailability, 't3.medium.search' otherwise
   */
  readonly dataNodeInstanceType?: string;
  /**
   * Dedicated master node instance type (highAvailability only).
   *
   * @default 'm7g.large.search'
   */
  readonly masterNodeInstanceType?: string;
  /**
   * EBS (gp3) volume size per data node, in GiB.
   *
   * @default - 100 with highAvailability, 20 otherwise
   */
  readonly volumeSizeGiB?: number;
  /**
   * Days to keep the slow and application logs (a value CloudWatch Logs accepts, e.g. 14, 30, 90).
   *
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * What happens to the domain, its secrets and logs when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The OpenSearch domain that Jaeger stores spans in (`tracingStorage: opensearch`, prod).
 *
 * - In the VPC's private subnets, behind a security group that admits only the EKS cluster on 443.
 * - Encryption at rest and node-to-node, HTTPS only with TLS 1.2.
 * - Fine-grained access control with an internal master user `jaeger` whose password Secrets
 *   Manager generates; Jaeger signs in with HTTP basic auth over TLS.
 * - Slow search, slow index and application logs to CloudWatch Logs.
 * - `highAvailability`: zone awareness over three AZs with a standby, three dedicated masters.
 *
 * Pods read one secret, `naming.tracingStoreSecret(platform, env)`, with the JSON keys `url`,
 * `username`, `password` (what `charts/tracing-chart.ts` maps to `ES_SERVER_URLS`, `ES_USERNAME`,
 * `ES_PASSWORD`). CloudFormation resolves the password into it, so no value appears in a template.
 *
 * A VPC domain needs the service-linked role `AWSServiceRoleForAmazonOpenSearchService` in the
 * account (`aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com`).
 *
 * @see https://docs.aws.amazon.com/opensearch-service/latest/developerguide/fgac.html
 * @see https://www.jaegertracing.io/docs/latest/deployment/#elasticsearch
 */
export class TracingStore extends Construct {
  /** The OpenSearch domain. */
  public readonly domain: opensearch.Domain;
  /** The security group of the domain. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The generated master user credentials (`username`, `password`). */
  public readonly masterUser: secretsmanager.Secret;
  /** The secret that Jaeger reads: url, username, password. */
  public readonly connectionSecret: secretsmanager.CfnSecret;

  constructor(scope: Construct, id: string, props: TracingStoreProps) {
    super(scope, id);
    const ha = props.highAvailability ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const domainName = `${props.platform}-${props.environment}-traces`;
    // OpenSearch domain names: 3 to 28 characters, lowercase letters, digits and hyphens.
    if (!/^[a-z][a-z0-9-]{2,27}$/.test(domainName)) {
      throw new ValidationError(
        `tracing store domain name '${domainName}' must be 3 to 28 lowercase letters, digits or hyphens; use a shorter platform or environment name`,
        { path: this.node.path },
      );
    }
    const volumeSize = props.volumeSizeGiB ?? (ha ? 100 : 20);
    if (!Number.isInteger(volumeSize) || volumeSize < 10 || volumeSize > 16384) {
      throw new ValidationError(`'volumeSizeGiB' must be an integer from 10 to 16384, got ${volumeSize}`, {
        path: this.node.path,
      });
    }
    const retention = props.logRetentionDays ?? 30;
    if (!(Object.values(logs.RetentionDays) as unknown[]).includes(retention)) {
      throw new ValidationError(
        `'logRetentionDays' must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ...), got ${retention}`,
        { path: this.node.path },
      );
    }
    const zones = ha ? 3 : 1;
    const azs = props.vpc.availabilityZones;
    if (azs.length < zones) {
      throw new ValidationError(
        `a highly available tracing store needs a VPC with ${zones} availability zones, got ${azs.length}`,
        { path: this.node.path },
      );
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Jaeger OpenSearch domain: the EKS cluster only, on 443',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(443), 'EKS cluster (Jaeger)');

    this.masterUser = new secretsmanager.Secret(this, 'MasterUser', {
      description: `${domainName} OpenSearch master user (fine-grained access control)`,
      removalPolicy,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: TRACING_STORE_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        requireEachIncludedType: true,
        // Characters that would need escaping in the JSON connection secret or a URL.
        excludeCharacters: '"\\\'/@:%`{}[]()*',
      },
    });

    const logGroup = (logId: string) =>
      new logs.LogGroup(this, logId, {
        retention: retention as logs.RetentionDays,
        removalPolicy,
      });
    const slowSearch = logGroup('SlowSearchLogs');
    const slowIndex = logGroup('SlowIndexLogs');
    const app = logGroup('AppLogs');
    // One narrow resource policy instead of aws-cdk-lib's account-wide one (a Lambda custom resource).
    const logsPolicy = new logs.ResourcePolicy(this, 'LogsPolicy', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('es.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [slowSearch, slowIndex, app].map((g) => g.logGroupArn),
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      ],
    });

    this.domain = new opensearch.Domain(this, 'Resource', {
      domainName,
      version: opensearch.EngineVersion.OPENSEARCH_2_19,
      vpc: props.vpc,
      vpcSubnets: [
        {
          subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
          availabilityZones: azs.slice(0, zones),
        },
      ],
      securityGroups: [this.securityGroup],
      capacity: {
        dataNodes: zones,
        dataNodeInstanceType: props.dataNodeInstanceType ?? (ha ? 'r7g.large.search' : 't3.medium.search'),
        ...(ha
          ? { masterNodes: 3, masterNodeInstanceType: props.masterNodeInstanceType ?? 'm7g.large.search' }
          : {}),
        multiAzWithStandbyEnabled: ha,
      },
      zoneAwareness: ha ? { enabled: true, availabilityZoneCount: 3 } : { enabled: false },
      ebs: { volumeSize, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      fineGrainedAccessControl: {
        masterUserName: TRACING_STORE_USER,
        masterUserPassword: this.masterUser.secretValueFromJson('password'),
      },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: slowSearch,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: slowIndex,
        appLogEnabled: true,
        appLogGroup: app,
      },
      suppressLogsResourcePolicy: true,
      removalPolicy,
    });
    this.domain.node.addDependency(logsPolicy);
    const cfnDomain = this.domain.node.defaultChild as opensearch.CfnDomain;
    // Fine-grained access control authenticates every request; the domain access policy lets
    // signed and basic-auth requests reach it (set here: aws-cdk-lib's addAccessPolicies needs a
    // Lambda custom resource). The ARN is built from the name to avoid a self-reference.
    cfnDomain.accessPolicies = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'es:ESHttp*',
          Resource: Stack.of(this).formatArn({
            service: 'es',
            resource: 'domain',
            resourceName: `${domainName}/*`,
          }),
        },
      ],
    };
    acknowledge(
      this.domain,
      ['AwsSolutions-OS5'],
      'fine-grained access control authenticates every request (Jaeger signs in as the internal master user with HTTP basic auth over TLS 1.2); the domain is reachable only inside the VPC through a security group that admits the EKS cluster on 443; this open domain policy is the one AWS documents for fine-grained access control',
    );
    acknowledge(
      this.domain,
      ['AwsSolutions-OS3'],
      'a VPC domain cannot use IP-based access policies; network access is limited by the security group, which admits only the EKS cluster security group on 443',
    );
    if (!ha) {
      acknowledge(
        this.domain,
        ['AwsSolutions-OS4', 'AwsSolutions-OS7'],
        'a non-production tracing store runs a single data node without dedicated masters or zone awareness to save cost; spans are diagnostic data, and the highAvailability store (prod) has three dedicated masters and three zones',
      );
    }

    this.connectionSecret = new secretsmanager.CfnSecret(this, 'Connection', {
      name: naming.tracingStoreSecret(props.platform, props.environment),
      description: `Jaeger OpenSearch connection (url, username, password) of ${domainName}`,
      secretString: Fn.join('', [
        '{"url":"https://',
        this.domain.domainEndpoint,
        `:443","username":"${TRACING_STORE_USER}","password":"`,
        this.masterUser.secretValueFromJson('password').unsafeUnwrap(),
        '"}',
      ]),
    });
    this.connectionSecret.applyRemovalPolicy(removalPolicy);
    acknowledge(
      this.masterUser,
      ['AwsSolutions-SMG4'],
      'the OpenSearch master user password is set on the domain by CloudFormation (UpdateDomainConfig); no Secrets Manager rotation template changes an OpenSearch internal user, so it is rotated with the runbook in docs/security.md',
    );
    acknowledge(
      this.connectionSecret,
      ['AwsSolutions-SMG4'],
      'the connection secret copies the master user password that CloudFormation resolves from the generated secret; it changes whenever that secret changes, see the MasterUser acknowledgement',
    );
  }
}
