import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Testing } from 'cdk8s';
import { afterAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { TracingChart } from '../../charts/tracing-chart.js';
import { createGatedApp, synthesizeGated } from '../../constructs/gates.js';
import { TracingStore } from '../../constructs/tracing-store.js';
import { loadPlatform, naming, ValidationError } from '../../model/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stackWithVpc(app: App = new App()) {
  const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'ap-northeast-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'],
    natGateways: 1,
  });
  const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
  return { stack, vpc, clients };
}

/** The JSON keys of a CfnSecret whose SecretString is an Fn::Join of literal parts and tokens. */
function secretKeys(template: Template, name: string): string[] {
  const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: name } });
  const [secret] = Object.values(secrets) as { Properties: { SecretString: unknown } }[];
  const parts = (secret!.Properties.SecretString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : 'X')).join('');
  return Object.keys(JSON.parse(text.replace(/\{\{resolve:[^}]*\}\}/g, 'X')) as object).sort();
}

describe('TracingStore', () => {
  test('creates a VPC OpenSearch domain, encrypted, HTTPS with TLS 1.2, fine-grained access, logs', () => {
    const { stack, vpc, clients } = stackWithVpc();
    new TracingStore(stack, 'Traces', {
      vpc,
      platform: 'p',
      environment: 'prod',
      clientSecurityGroup: clients,
      highAvailability: true,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      DomainName: 'p-prod-traces',
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-2019-07' },
      AdvancedSecurityOptions: Match.objectLike({
        Enabled: true,
        InternalUserDatabaseEnabled: true,
        MasterUserOptions: { MasterUserName: 'jaeger', MasterUserPassword: Match.anyValue() },
      }),
      ClusterConfig: Match.objectLike({
        InstanceCount: 3,
        DedicatedMasterEnabled: true,
        DedicatedMasterCount: 3,
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
        MultiAZWithStandbyEnabled: true,
      }),
      VPCOptions: Match.objectLike({ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }),
      LogPublishingOptions: {
        SEARCH_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        INDEX_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        ES_APPLICATION_LOGS: Match.objectLike({ Enabled: true }),
      },
    });
    // Only the cluster's security group, only on 443.
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clients'), 'GroupId'] },
    });
    // No Lambda-backed custom resources (access policy and log resource policy are native).
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
    expect(JSON.stringify(t.toJSON())).not.toMatch(/"MasterUserPassword":"[^{]/);
  });

  test('stores url, username and password under the name the Kubernetes layer reads', () => {
    const model = loadPlatform(PLATFORM_FIXTURE_FILE);
    const { stack, vpc, clients } = stackWithVpc();
    new TracingStore(stack, 'Traces', {
      vpc,
      platform: model.name,
      environment: 'prod',
      clientSecurityGroup: clients,
    });
    const name = naming.tracingStoreSecret(model.name, 'prod');
    expect(name).toBe(`${model.name}/prod/tracing/opensearch`);
    expect(TracingChart.propsFromModel(model, 'prod').opensearchSecretName).toBe(name);
    expect(secretKeys(Template.fromStack(stack), name)).toEqual(['password', 'url', 'username']);

    // The keys the Jaeger pods read from the synced Secret are exactly those.
    const chart = new TracingChart(Testing.app(), 't', TracingChart.propsFromModel(model, 'prod'));
    const read = new Set(
      [...JSON.stringify(chart.toJson()).matchAll(/"secretKeyRef":\{[^}]*"key":"([^"]+)"/g)].map((m) => m[1]),
    );
    expect([...read].sort()).toEqual(['password', 'url', 'username']);
  });

  test('passes cdk-nag and CloudFormation validation as a single dev node', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'aio-traces-'));
    dirs.push(outdir);
    const { stack, vpc, clients } = stackWithVpc(createGatedApp({ outdir }));
    new TracingStore(stack, 'Traces', {
      vpc,
      platform: 'p',
      environment: 'dev',
      clientSecurityGroup: clients,
    });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test VPC' });
    const { assembly, findings } = synthesizeGated(stack.node.root as App);
    expect(findings).toEqual([]);
    const t = Template.fromJSON(assembly!.getStackByName('Test').template as Record<string, unknown>);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 1, ZoneAwarenessEnabled: false }),
    });
  });

  test('throws for a domain name OpenSearch would reject', () => {
    const { stack, vpc, clients } = stackWithVpc();
    expect(
      () =>
        new TracingStore(stack, 'Traces', {
          vpc,
          platform: 'a-very-long-platform-name',
          environment: 'prod',
          clientSecurityGroup: clients,
        }),
    ).toThrow(ValidationError);
    expect(
      () =>
        new TracingStore(stack, 'Traces2', {
          vpc,
          platform: 'p',
          environment: 'dev',
          clientSecurityGroup: clients,
          logRetentionDays: 42,
        }),
    ).toThrow(/'logRetentionDays' must be a CloudWatch Logs retention .*got 42/);
  });
});
