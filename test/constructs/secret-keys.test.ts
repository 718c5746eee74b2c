import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Chart, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { ServiceCredentials } from '../../charts/service-credentials.js';
import { ServiceCache } from '../../constructs/service-cache.js';
import { ServiceDatabase } from '../../constructs/service-database.js';
import { naming } from '../../model/index.js';

// The AWS layer writes the connection secrets; the Kubernetes layer's ExternalSecret templates
// read them. These tests take the keys from both sides, so a rename on either side fails here.
process.env.CDK_VALIDATION = 'false';

/** The keys each ExternalSecret template of ServiceCredentials reads, by Secret name suffix. */
function templateKeys(): Record<'database' | 'redis', string[]> {
  const chart = new Chart(Testing.app(), 'c');
  new ServiceCredentials(chart, 'Creds', {
    service: 'svc',
    namespace: 'svc',
    secretStoreName: 'store',
    databaseSecretName: 'db',
    cacheSecretName: 'cache',
  });
  const keys = (name: string) => {
    const es = chart.toJson().find((o: { metadata: { name: string } }) => o.metadata.name === name) as {
      spec: { target: { template: { data: Record<string, string> } } };
    };
    const text = Object.values(es.spec.target.template.data).join(' ');
    return [...new Set([...text.matchAll(/\{\{\s*\.(\w+)/g)].map((m) => m[1]!))].sort();
  };
  return { database: keys('svc-database'), redis: keys('svc-redis') };
}

function stackWithVpc() {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'ap-northeast-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b'] });
  const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
  return {
    stack,
    vpc,
    clients,
    props: { vpc, platform: 'p', environment: 'dev', clientSecurityGroup: clients },
  };
}

describe('connection secrets have the keys the ExternalSecret templates read', () => {
  const read = templateKeys();

  test('the templates read what the charts document', () => {
    expect(read.database).toEqual(['dbname', 'host', 'password', 'port', 'username']);
    expect(read.redis).toEqual(['host', 'password', 'port']);
  });

  test('the Aurora secret has username, password and dbname, and the attachment adds host and port', () => {
    const { stack, props } = stackWithVpc();
    new ServiceDatabase(stack, 'Db', { ...props, service: 'order-history' });
    const t = Template.fromStack(stack);
    const [secretId, secret] = Object.entries(
      t.findResources('AWS::SecretsManager::Secret', {
        Properties: { Name: naming.databaseSecret('p', 'dev', 'order-history') },
      }),
    )[0] as [string, { Properties: { GenerateSecretString: Record<string, string> } }];
    const generated = secret.Properties.GenerateSecretString;
    const stored = JSON.parse(generated.SecretStringTemplate!) as Record<string, string>;
    expect(stored).toEqual({ username: 'postgres', dbname: naming.databaseName('order-history') });
    expect(generated.GenerateStringKey).toBe('password');
    t.hasResourceProperties('AWS::RDS::DBCluster', { DatabaseName: 'order_history' });
    // An attachment to an Aurora cluster adds engine, host, port and dbClusterIdentifier.
    t.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      SecretId: { Ref: secretId },
      TargetType: 'AWS::RDS::DBCluster',
    });
    const keys = [...Object.keys(stored), 'password', 'engine', 'host', 'port', 'dbClusterIdentifier'];
    for (const key of read.database) expect(keys, key).toContain(key);
  });

  test('the cache connection secret stores the AUTH token under password, with host and port', () => {
    const { stack, props } = stackWithVpc();
    new ServiceCache(stack, 'Cache', { ...props, service: 'inventory' });
    const [secret] = Object.values(
      Template.fromStack(stack).findResources('AWS::SecretsManager::Secret', {
        Properties: { Name: naming.cacheSecret('p', 'dev', 'inventory') },
      }),
    ) as { Properties: { SecretString: { 'Fn::Join': [string, unknown[]] } } }[];
    const parts = secret!.Properties.SecretString['Fn::Join'][1];
    const json = parts.map((p) => (typeof p === 'string' ? p : 'X')).join('');
    const stored = JSON.parse(json.replace(/\{\{resolve:[^}]*\}\}/g, 'X')) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['host', 'password', 'port', 'tls']);
    expect(json).toMatch(/"password":"\{\{resolve:secretsmanager:X:SecretString:authToken::\}\}"/);
    for (const key of read.redis) expect(Object.keys(stored), key).toContain(key);
  });
});
