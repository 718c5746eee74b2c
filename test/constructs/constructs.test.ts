import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, test } from 'vitest';
import { PlatformNetwork } from '../../constructs/platform-network.js';
import { CACHE_PORT, ServiceCache } from '../../constructs/service-cache.js';
import { DATABASE_PORT, ServiceDatabase } from '../../constructs/service-database.js';
import { ServiceIdentity } from '../../constructs/service-identity.js';
import { ServiceRegistry } from '../../constructs/service-registry.js';
import { naming, ValidationError } from '../../model/index.js';

// Small stacks without EKS. The cluster and add-ons are covered by reference-platform.test.ts,
// which synthesizes the whole platform once per environment with both gates. These tests assert on
// templates only, so they skip aws-cdk-lib's built-in CloudFormation validation (gates.test.ts and
// reference-platform.test.ts cover it): its validator costs seconds of CPU to start on 2 cores.
process.env.CDK_VALIDATION = 'false';
function stackWithVpc(): { stack: Stack; vpc: ec2.Vpc; clients: ec2.SecurityGroup } {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'ap-northeast-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'],
  });
  const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
  return { stack, vpc, clients };
}

const envAgnostic = () => new Stack(new App(), 'Test');

describe('PlatformNetwork', () => {
  test('creates 2 AZs with one NAT gateway, flow logs and the AWS API endpoints by default', () => {
    const stack = new Stack(new App(), 'Test', {
      env: { account: '111111111111', region: 'ap-northeast-2' },
    });
    new PlatformNetwork(stack, 'Network', { region: 'ap-northeast-2' });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.resourceCountIs('AWS::EC2::Subnet', 4);
    t.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 6);
    for (const svc of ['ecr.api', 'ecr.dkr', 'sts', 'secretsmanager', 'logs']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.ap-northeast-2.${svc}`,
        PrivateDnsEnabled: true,
      });
    }
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443 })],
    });
  });

  test('creates 3 AZs with a NAT gateway each for production', () => {
    const stack = envAgnostic();
    new PlatformNetwork(stack, 'Network', { region: 'ap-northeast-2', maxAzs: 3, natGateways: 3 });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::NatGateway', 3);
    t.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'ap-northeast-2c' });
  });

  test('throws when natGateways exceeds maxAzs', () => {
    expect(
      () => new PlatformNetwork(envAgnostic(), 'Network', { region: 'ap-northeast-2', natGateways: 3 }),
    ).toThrow(ValidationError);
    expect(
      () => new PlatformNetwork(envAgnostic(), 'Network', { region: 'ap-northeast-2', natGateways: 3 }),
    ).toThrow(/'natGateways' must be from 1 to 'maxAzs' \(2\), got 3/);
  });

  test('throws when a region has too few zones for maxAzs', () => {
    expect(() => new PlatformNetwork(envAgnostic(), 'Network', { region: 'us-west-1', maxAzs: 3 })).toThrow(
      /region 'us-west-1' has only 2 availability zones/,
    );
  });
});

describe('ServiceDatabase', () => {
  test('creates an encrypted Aurora PostgreSQL Serverless v2 cluster with IAM auth and rotation', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceDatabase(stack, 'Db', {
      vpc,
      platform: 'p',
      environment: 'dev',
      service: 'order',
      clientSecurityGroup: clients,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::RDS::DBCluster', 1);
    t.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DatabaseName: 'order',
      Port: DATABASE_PORT,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      DeletionProtection: false,
      BackupRetentionPeriod: 1,
      PerformanceInsightsEnabled: true,
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: naming.databaseSecret('p', 'dev', 'order'),
    });
    t.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    t.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete' });
  });

  test('admits only the client security group on 5432', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceDatabase(stack, 'Db', {
      vpc,
      platform: 'p',
      environment: 'dev',
      service: 'order',
      clientSecurityGroup: clients,
    });
    const t = Template.fromStack(stack);
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) =>
        (r as { Properties: { FromPort: number; SourceSecurityGroupId: { 'Fn::GetAtt': string[] } } })
          .Properties,
    );
    // The cluster's security group, and the rotation function that changes the password.
    for (const i of ingress)
      expect(i.FromPort).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Endpoint.Port'] });
    expect(ingress.map((i) => i.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^Clients/),
      expect.stringMatching(/^DbRotationSingleUserSecurityGroup/),
    ]);
  });

  test('adds a reader, deletion protection and a snapshot policy in production', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceDatabase(stack, 'Db', {
      vpc,
      platform: 'p',
      environment: 'prod',
      service: 'order',
      clientSecurityGroup: clients,
      production: true,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: true, BackupRetentionPeriod: 14 });
    t.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot' });
    t.resourceCountIs('AWS::RDS::DBInstance', 2);
  });

  test('throws on a backup retention over 35 days', () => {
    const { stack, vpc, clients } = stackWithVpc();
    expect(
      () =>
        new ServiceDatabase(stack, 'Db', {
          vpc,
          platform: 'p',
          environment: 'dev',
          service: 'order',
          clientSecurityGroup: clients,
          backupRetention: Duration.days(40),
        }),
    ).toThrow(/'backupRetention' must be from 1 to 35 days, got 40/);
  });

  test('throws when capacity min exceeds max', () => {
    const { stack, vpc, clients } = stackWithVpc();
    expect(
      () =>
        new ServiceDatabase(stack, 'Db', {
          vpc,
          platform: 'p',
          environment: 'dev',
          service: 'order',
          clientSecurityGroup: clients,
          capacity: { min: 8, max: 2 },
        }),
    ).toThrow(ValidationError);
  });
});

describe('ServiceCache', () => {
  test('creates a single encrypted Valkey node with AUTH from Secrets Manager in dev', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceCache(stack, 'Cache', {
      vpc,
      platform: 'p',
      environment: 'dev',
      service: 'inventory',
      clientSecurityGroup: clients,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      Port: CACHE_PORT,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      AuthToken: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      MultiAZEnabled: false,
      AutomaticFailoverEnabled: false,
      ReplicasPerNodeGroup: 0,
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: naming.cacheSecret('p', 'dev', 'inventory'),
    });
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: CACHE_PORT,
      ToPort: CACHE_PORT,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clients'), 'GroupId'] },
    });
  });

  test('runs two replicas with Multi-AZ failover and snapshots in production', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceCache(stack, 'Cache', {
      vpc,
      platform: 'p',
      environment: 'prod',
      service: 'inventory',
      clientSecurityGroup: clients,
      production: true,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      ReplicasPerNodeGroup: 2,
      SnapshotRetentionLimit: 7,
    });
  });

  test('keeps the AUTH token out of the template', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new ServiceCache(stack, 'Cache', {
      vpc,
      platform: 'p',
      environment: 'dev',
      service: 'inventory',
      clientSecurityGroup: clients,
    });
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json).toContain('{{resolve:secretsmanager:');
    expect(json).not.toMatch(/"AuthToken":"[^{"]/);
  });

  test('throws on a negative snapshot retention', () => {
    const { stack, vpc, clients } = stackWithVpc();
    expect(
      () =>
        new ServiceCache(stack, 'Cache', {
          vpc,
          platform: 'p',
          environment: 'dev',
          service: 'inventory',
          clientSecurityGroup: clients,
          snapshotRetentionDays: -1,
        }),
    ).toThrow(/'snapshotRetentionDays' must be an integer from 0 to 35, got -1/);
  });
});

describe('ServiceRegistry', () => {
  test('creates <platform>/<service> with scan on push, immutable tags and a lifecycle policy', () => {
    const stack = envAgnostic();
    new ServiceRegistry(stack, 'Registry', { platform: 'p', service: 'order' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: naming.repository('p', 'order'),
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":50') },
    });
    t.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain' });
  });

  test('throws on a zero maxImageCount', () => {
    expect(
      () =>
        new ServiceRegistry(envAgnostic(), 'Registry', { platform: 'p', service: 'order', maxImageCount: 0 }),
    ).toThrow(/'maxImageCount' must be an integer from 1 to 1000, got 0/);
  });

  test('empties the repository on delete only when its removal policy is destroy', () => {
    const stack = envAgnostic();
    new ServiceRegistry(stack, 'Registry', {
      platform: 'p',
      service: 'order',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Template.fromStack(stack).hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Delete' });
  });
});

describe('ServiceIdentity', () => {
  test('lets the service read only its own secrets and pull only its own repository', () => {
    const stack = envAgnostic();
    const registry = new ServiceRegistry(stack, 'Registry', { platform: 'p', service: 'order' });
    new ServiceIdentity(stack, 'Identity', {
      clusterName: 'p-dev',
      service: 'order',
      secretArns: ['arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:p/dev/order/database-AbCdEf'],
      repository: registry.repository,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'p-dev',
      Namespace: 'order',
      ServiceAccount: 'order',
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [
          Match.objectLike({
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Principal: { Service: 'pods.eks.amazonaws.com' },
          }),
        ],
      }),
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: 'arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:p/dev/order/database-AbCdEf',
          }),
          Match.objectLike({
            Action: Match.arrayWith(['ecr:BatchGetImage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Registry'), 'Arn'] },
          }),
        ]),
      },
    });
  });
});
