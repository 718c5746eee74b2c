import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { ADDON_CHARTS } from '../../constructs/addon-versions.js';
import { cloudFormationStep } from '../../constructs/synth-step.js';
import { loadPlatform, naming, type PlatformModel } from '../../model/index.js';
import type { SynthStepResult } from '../../synth/synth-step.js';

// EKS synthesis is slow on 2 cores: each environment is synthesized once, through the real
// `aio synth` step, and every test reads the templates it wrote.
const model: PlatformModel = loadPlatform(PLATFORM_FIXTURE_FILE);
const out = mkdtempSync(join(tmpdir(), 'aio-cfn-'));
const results: Record<string, SynthStepResult> = {};

function template(env: string, stack: string): Template {
  const file = join(out, env, 'cloudformation', `${model.name}-${env}-${stack}.template.json`);
  return Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
}

beforeAll(async () => {
  for (const env of ['dev', 'prod']) {
    results[env] = await cloudFormationStep.run({
      model,
      env: model.environment(env),
      envDir: join(out, env),
      progress: () => undefined,
    });
  }
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('reference platform', () => {
  test.each(['dev', 'prod'])('synthesizes %s with cdk-nag and CloudFormation validation clean', (env) => {
    const result = results[env]!;
    // Zero findings from both gates, warnings included.
    expect(result.findings.filter((f) => f.gate !== 'cdk-annotations')).toEqual([]);
    expect(result.findings.filter((f) => f.level === 'error')).toEqual([]);
    // network + cluster + ci + one stack per service, and the npm registry in the first environment
    expect(result.stacks).toBe(3 + model.services.length + (env === model.environments[0]!.name ? 1 : 0));
    expect(result.resources).toBeGreaterThan(100);
    expect(result.files).toContain(`cloudformation/${model.name}-${env}-cluster.template.json`);
    expect(result.files).toContain('cloudformation/manifest.json');
  });

  test('provisions Jaeger OpenSearch in the cluster stack where tracingStorage is opensearch only', () => {
    expect(model.environment('prod').tracingStorage).toBe('opensearch');
    expect(results.prod!.findings).toEqual([]);
    const prod = template('prod', 'cluster');
    prod.resourceCountIs('AWS::OpenSearchService::Domain', 1);
    prod.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: naming.tracingStoreSecret(model.name, 'prod'),
    });
    template('dev', 'cluster').resourceCountIs('AWS::OpenSearchService::Domain', 0);
    for (const svc of model.services) {
      template('prod', `svc-${svc.name}`).resourceCountIs('AWS::OpenSearchService::Domain', 0);
    }
    // External Secrets may read it: its policy covers <platform>/<env>/*.
    const policies = JSON.stringify(prod.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(`:secret:${model.name}/prod/*`);
    expect(naming.tracingStoreSecret(model.name, 'prod').startsWith(`${model.name}/prod/`)).toBe(true);
  });

  test('creates the GitHub OIDC roles the workflows assume in each account, image-push roles where images go', () => {
    for (const env of ['dev', 'prod']) {
      const ci = template(env, 'ci');
      ci.resourceCountIs('AWS::IAM::OIDCProvider', 1);
      for (const name of [naming.githubDiffRole(model.name), naming.githubDeployRole(model.name)]) {
        ci.hasResourceProperties('AWS::IAM::Role', { RoleName: name });
      }
      ci.hasResourceProperties('AWS::EKS::AccessEntry', {
        ClusterName: Match.anyValue(),
        AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'namespace', Namespaces: ['argocd'] } })],
      });
    }
    // The service workflows push to the first environment's account.
    for (const svc of model.services) {
      template('dev', 'ci').hasResourceProperties('AWS::IAM::Role', {
        RoleName: naming.serviceCiRole(model.name, svc.name),
      });
    }
    template('prod', 'ci').resourceCountIs('AWS::IAM::Role', 2);
  });

  test('dev uses 2 AZs and 1 NAT gateway, prod 3 AZs and a NAT gateway per AZ', () => {
    template('dev', 'network').resourceCountIs('AWS::EC2::NatGateway', 1);
    template('prod', 'network').resourceCountIs('AWS::EC2::NatGateway', 3);
    template('dev', 'network').resourceCountIs('AWS::EC2::Subnet', 4);
    template('prod', 'network').resourceCountIs('AWS::EC2::Subnet', 6);
    template('prod', 'network').hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  test('creates a separate Aurora cluster per service with a database, protected only in prod', () => {
    const withDb = model.servicesWithDatabase.map((s) => s.name);
    expect(withDb.length).toBeGreaterThan(1);
    for (const svc of withDb) {
      template('prod', `svc-${svc}`).hasResourceProperties('AWS::RDS::DBCluster', {
        DeletionProtection: true,
        StorageEncrypted: true,
        EnableIAMDatabaseAuthentication: true,
        BackupRetentionPeriod: 14,
      });
      template('prod', `svc-${svc}`).resourceCountIs('AWS::RDS::DBInstance', 2);
      template('dev', `svc-${svc}`).hasResourceProperties('AWS::RDS::DBCluster', {
        DeletionProtection: false,
        BackupRetentionPeriod: 1,
      });
      template('dev', `svc-${svc}`).resourceCountIs('AWS::RDS::DBInstance', 1);
      template('prod', `svc-${svc}`).hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot' });
      template('dev', `svc-${svc}`).hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete' });
    }
    template('prod', 'svc-notification').resourceCountIs('AWS::RDS::DBCluster', 0);
  });

  test('makes caches Multi-AZ with failover in prod only', () => {
    template('prod', 'svc-inventory').hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      ReplicasPerNodeGroup: 2,
    });
    template('dev', 'svc-inventory').hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      MultiAZEnabled: false,
      ReplicasPerNodeGroup: 0,
    });
    template('dev', 'svc-order').resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
  });

  test('binds every service to its own namespace and service account through Pod Identity', () => {
    for (const svc of model.services) {
      template('prod', `svc-${svc.name}`).hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
        Namespace: naming.namespace(svc.name),
        ServiceAccount: naming.serviceAccount(svc.name),
        ClusterName: Match.anyValue(),
      });
      template('prod', `svc-${svc.name}`).hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: naming.repository(model.name, svc.name),
      });
    }
  });

  test('tags every stack for cost allocation with platform, env, service and owner', () => {
    template('prod', 'svc-order').hasResourceProperties(
      'AWS::ECR::Repository',
      Match.objectLike({
        Tags: Match.arrayWith([
          { Key: 'env', Value: 'prod' },
          { Key: 'owner', Value: 'team-commerce' },
          { Key: 'platform', Value: model.name },
          { Key: 'service', Value: 'order' },
        ]),
      }),
    );
    template('dev', 'network').hasResourceProperties(
      'AWS::EC2::VPC',
      Match.objectLike({ Tags: Match.arrayWith([{ Key: 'env', Value: 'dev' }]) }),
    );
  });

  test('gives prod stacks termination protection', () => {
    const manifest = JSON.parse(
      readFileSync(join(out, 'prod', 'cloudformation', 'manifest.json'), 'utf8'),
    ) as {
      artifacts: Record<string, { properties?: { terminationProtection?: boolean } }>;
    };
    expect(manifest.artifacts[`${model.name}-prod-cluster`]?.properties?.terminationProtection).toBe(true);
    const devManifest = JSON.parse(
      readFileSync(join(out, 'dev', 'cloudformation', 'manifest.json'), 'utf8'),
    ) as {
      artifacts: Record<string, { properties?: { terminationProtection?: boolean } }>;
    };
    expect(devManifest.artifacts[`${model.name}-dev-cluster`]?.properties?.terminationProtection).toBeFalsy();
  });
});

describe('PlatformCluster', () => {
  test('creates a private EKS cluster with all control-plane logs and KMS-encrypted secrets', () => {
    const t = template('prod', 'cluster');
    t.resourceCountIs('AWS::EKS::Cluster', 1);
    t.hasResourceProperties('AWS::EKS::Cluster', {
      Name: `${model.name}-prod`,
      Version: model.spec.cluster.kubernetesVersion,
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
      EncryptionConfig: [Match.objectLike({ Provider: { KeyArn: Match.anyValue() } })],
      Logging: {
        ClusterLogging: {
          EnabledTypes: Match.arrayWith([{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }]),
        },
      },
      AccessConfig: Match.objectLike({ AuthenticationMode: 'API' }),
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('grants each admin role from platform.yaml an access entry, with no aws-auth ConfigMap', () => {
    const t = template('prod', 'cluster');
    for (const arn of model.environment('prod').adminRoleArns) {
      t.hasResourceProperties('AWS::EKS::AccessEntry', {
        PrincipalArn: arn,
        AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'cluster' } })],
      });
    }
    expect(JSON.stringify(t.toJSON())).not.toContain('aws-auth');
  });

  test('installs the Pod Identity agent, a kubectl layer and a managed node group sized by env', () => {
    const prod = template('prod', 'cluster');
    prod.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
    // the NetworkPolicies are enforced only with the VPC CNI's network policy agent on
    prod.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni',
      ResolveConflicts: 'OVERWRITE',
      ConfigurationValues: '{"enableNetworkPolicy":"true"}',
    });
    prod.hasResourceProperties('AWS::Lambda::LayerVersion', {
      Description: Match.stringLikeRegexp('kubectl 1\\.34'),
    });
    prod.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_x86_64_STANDARD',
      ScalingConfig: { MinSize: 3, DesiredSize: 3, MaxSize: 12 },
    });
    template('dev', 'cluster').hasResourceProperties('AWS::EKS::Nodegroup', {
      ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: 4 },
    });
  });
});

describe('EbsCsiDriver', () => {
  test('installs the EBS CSI add-on with Pod Identity and a default encrypted gp3 StorageClass', () => {
    for (const env of ['dev', 'prod']) {
      const t = template(env, 'cluster');
      const resources = t.toJSON().Resources as Record<
        string,
        { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }
      >;
      const [addonId, addon] = Object.entries(resources).find(
        ([, r]) => r.Type === 'AWS::EKS::Addon' && r.Properties.AddonName === 'aws-ebs-csi-driver',
      )!;
      expect(addon.Properties.PodIdentityAssociations).toEqual([
        {
          RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/EbsCsiDriverRole/), 'Arn'] },
          ServiceAccount: 'ebs-csi-controller-sa',
        },
      ]);
      const agent = Object.entries(resources).find(
        ([, r]) => r.Type === 'AWS::EKS::Addon' && r.Properties.AddonName === 'eks-pod-identity-agent',
      )![0];
      expect(addon.DependsOn).toContain(agent);
      t.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [
            Match.objectLike({
              Principal: { Service: 'pods.eks.amazonaws.com' },
              Action: ['sts:AssumeRole', 'sts:TagSession'],
            }),
          ],
        }),
        ManagedPolicyArns: [
          {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy'],
            ],
          },
        ],
      });
      const storageClass = Object.values(resources).find(
        (r) =>
          r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' &&
          JSON.stringify(r.Properties.Manifest).includes('StorageClass'),
      )!;
      const manifest = JSON.stringify(storageClass.Properties.Manifest);
      expect(manifest).toContain('\\"encrypted\\":\\"true\\"');
      expect(manifest).toContain('storageclass.kubernetes.io/is-default-class');
      expect(storageClass.DependsOn).toContain(addonId);
    }
  });
});

describe('ClusterAddons', () => {
  type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
  const charts = (env: string) => {
    const resources = template(env, 'cluster').toJSON().Resources as Record<string, Resource>;
    const byChart = new Map<string, { id: string; props: Record<string, unknown>; dependsOn: string[] }>();
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'Custom::AWSCDK-EKS-HelmChart') continue;
      byChart.set(String(r.Properties.Release), { id, props: r.Properties, dependsOn: r.DependsOn ?? [] });
    }
    return byChart;
  };

  test('pins every chart to the version in addon-versions.ts, with a timeout under the Lambda limit', () => {
    const installed = charts('prod');
    expect(installed.size).toBe(Object.keys(ADDON_CHARTS).length);
    // The Kubernetes layer (TracingChart) owns Jaeger: a Helm release would deploy it twice.
    expect([...installed.values()].map((c) => c.props.Chart)).not.toContain('jaeger');
    for (const pin of Object.values(ADDON_CHARTS)) {
      const release = [...installed.values()].find((c) => c.props.Chart === pin.chart);
      expect(release?.props.Version, pin.chart).toBe(pin.version);
      expect(release?.props.Repository, pin.chart).toBe(pin.repository);
      expect(release?.props.Timeout, pin.chart).toBe('600s');
    }
  });

  test('orders CRDs before their users and Istio and the load balancer controller before Kong', () => {
    const installed = charts('dev');
    const kong = installed.get('kong')!;
    for (const dep of ['istiod', 'gateway-crds-helm', 'aws-load-balancer-controller']) {
      expect(kong.dependsOn, dep).toContain(installed.get(dep)!.id);
    }
    expect(installed.get('istiod')!.dependsOn).toContain(installed.get('istio-base')!.id);
    expect(installed.get('istiod')!.dependsOn).toContain(installed.get('istio-cni')!.id);
  });

  test('writes no arn:aws: literal: ARNs use the stack partition, the ALB controller policy included', () => {
    // Allowed: ARNs platform.yaml spells itself (roles, certificates), and the commercial row of a
    // partition mapping (CDK's rotation application).
    const given = new Set(readFileSync(PLATFORM_FIXTURE_FILE, 'utf8').match(/arn:aws:[^\s"',}]+/g) ?? []);
    const literals: string[] = [];
    const walk = (file: string, v: unknown, path: string[]): void => {
      if (typeof v === 'string') {
        if (v.includes('arn:aws:') && !(path[0] === 'Mappings' && path[2] === 'aws')) {
          for (const arn of v.match(/arn:aws:[^\s"',}\\]+/g)!) {
            if (!given.has(arn)) literals.push(`${file} ${path.join('.')}: ${arn}`);
          }
        }
      } else if (v && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) walk(file, child, [...path, k]);
      }
    };
    for (const env of ['dev', 'prod']) {
      for (const file of results[env]!.files.filter((f) => f.endsWith('.template.json'))) {
        walk(`${env}/${file}`, JSON.parse(readFileSync(join(out, env, file), 'utf8')), []);
      }
    }
    expect(literals).toEqual([]);
    // The controller's policy is there, with the partition as a reference.
    const policies = template('dev', 'cluster').findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('LoadBalancerController') },
    });
    const doc = JSON.stringify(Object.values(policies).map((p) => p.Properties));
    expect(doc).toContain(':elasticloadbalancing:*:*:targetgroup/*/*');
    expect(doc).toContain('{"Ref":"AWS::Partition"}');
  });

  test('points istiod tracing at the jaeger-collector Service that the Kubernetes layer deploys', () => {
    const values = JSON.parse(String(charts('dev').get('istiod')!.props.Values)) as {
      meshConfig: { extensionProviders: unknown[]; defaultProviders: { tracing: string[] } };
    };
    expect(values.meshConfig.extensionProviders).toEqual([
      {
        name: 'jaeger',
        opentelemetry: {
          service: `jaeger-collector.${model.spec.tracing.namespace}.svc.cluster.local`,
          port: 4317,
        },
      },
    ]);
    expect(values.meshConfig.defaultProviders.tracing).toEqual(['jaeger']);
  });

  test('turns on Kong tracing with the platform sampling rate, so its opentelemetry plugin emits spans', () => {
    const values = JSON.parse(String(charts('prod').get('kong')!.props.Values)) as {
      env: Record<string, unknown>;
    };
    expect(values.env).toMatchObject({
      database: 'off',
      tracing_instrumentations: 'all',
      tracing_sampling_rate: model.spec.mesh.tracing.sampling / 100,
    });
    expect(model.spec.mesh.tracing.sampling / 100).toBe(0.1);
  });

  test('creates an Argo CD Application that syncs <path>/<env>/k8s after the add-ons', () => {
    const resources = template('prod', 'cluster').toJSON().Resources as Record<string, Resource>;
    const app = Object.values(resources).find(
      (r) =>
        r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' &&
        JSON.stringify(r.Properties).includes('Application'),
    );
    expect(app).toBeDefined();
    const manifest = JSON.stringify(app!.Properties.Manifest);
    expect(manifest).toContain(`${model.spec.gitops.path}/prod/k8s`);
    expect(manifest).toContain(model.spec.gitops.repoUrl);
    const installed = charts('prod');
    for (const dep of ['argo-cd', 'kong', 'external-secrets', 'istiod']) {
      expect(app!.DependsOn, dep).toContain(installed.get(dep)!.id);
    }
  });
});
