import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { ClusterAddons } from '../../constructs/cluster-addons.js';
import { addPlatformFromContext } from '../../constructs/platform-app.js';
import { PlatformCluster } from '../../constructs/platform-cluster.js';
import { PlatformStage } from '../../constructs/platform-stage.js';
import { loadPlatform, naming, ValidationError } from '../../model/index.js';

// Construction only (no synthesis): the reference platform is synthesized in reference-platform.test.ts.
const model = loadPlatform(PLATFORM_FIXTURE_FILE);

describe('PlatformStage', () => {
  test('creates the network, cluster and one stack per service of an environment in the stage', () => {
    const stage = new PlatformStage(new App(), 'Prod', { model, environment: 'prod' });
    expect(stage.account).toBe('222222222222');
    expect(stage.region).toBe('ap-northeast-2');
    expect(stage.stacks.network.stackName).toBe('allinone-prod-network');
    expect(stage.stacks.cluster.stackName).toBe('allinone-prod-cluster');
    expect([...stage.stacks.services.keys()]).toEqual(model.services.map((s) => s.name));
    const order = stage.stacks.services.get('order')!;
    expect(order.dependencies).toContain(stage.stacks.cluster);
    expect(stage.stacks.cluster.dependencies).toContain(stage.stacks.network);
    expect(order.database).toBeDefined();
    expect(order.cache).toBeUndefined();
    expect(stage.stacks.services.get('notification')!.database).toBeUndefined();
  });

  test('adds a CI stack per account after the cluster, with the role names the workflows assume', async () => {
    const { platformWorkflows } = await import('../../pipelines/platform-workflows.js');
    const { serviceWorkflow } = await import('../../pipelines/service-workflow.js');
    const stage = new PlatformStage(new App(), 'Dev', { model, environment: 'dev' });
    const ci = stage.stacks.ci!;
    expect(ci.stackName).toBe('allinone-dev-ci');
    expect(ci.dependencies).toContain(stage.stacks.cluster);
    const roleName = (r: iam.Role) => (r.node.defaultChild as iam.CfnRole).roleName!;
    expect(roleName(ci.roles.diffRole)).toBe(naming.githubDiffRole(model.name));
    expect(roleName(ci.roles.deployRole)).toBe(naming.githubDeployRole(model.name));
    expect([...ci.roles.serviceCiRoles.keys()]).toEqual(model.services.map((s) => s.name));
    // The npm registry: in the first environment's account, in packages.region, before the roles.
    const packages = stage.stacks.packages!;
    expect(packages.stackName).toBe('allinone-dev-packages');
    expect({ account: packages.account, region: packages.region }).toEqual({
      account: model.packageRegistry.account,
      region: 'ap-northeast-1',
    });
    expect(ci.dependencies).toContain(packages);
    expect(roleName(ci.roles.releaseRole!)).toBe(naming.githubReleaseRole(model.name));
    const workflows = JSON.stringify(platformWorkflows(model));
    expect(workflows).toContain(`role/${naming.githubDiffRole(model.name)}`);
    expect(workflows).toContain(`role/${naming.githubDeployRole(model.name)}`);
    const order = serviceWorkflow({
      service: 'order',
      platform: model.name,
      account: '111111111111',
      region: 'ap-northeast-2',
      platformRepo: 'allinone/platform',
    });
    expect(JSON.stringify(order)).toContain(`role/${roleName(ci.roles.serviceCiRoles.get('order')!)}`);
  });

  test('gives a later environment in an already used account no second CI stack', () => {
    const shared = loadPlatform(PLATFORM_FIXTURE_FILE);
    const prod = shared.environment('prod');
    // Same model with prod moved into dev's account.
    const sameAccount = Object.create(shared, {
      environments: {
        value: shared.environments.map((e) => (e.name === 'prod' ? { ...prod, account: '111111111111' } : e)),
      },
    }) as typeof shared;
    const stage = new App();
    const first = new PlatformStage(stage, 'Dev', { model: sameAccount, environment: 'dev' });
    expect(first.stacks.ci).toBeDefined();
    const later = new PlatformStage(stage, 'Prod', { model: sameAccount, environment: 'prod' });
    expect(later.stacks.ci).toBeUndefined();
  });

  test('throws a ValidationError naming the known environments for an unknown one', () => {
    expect(() => new PlatformStage(new App(), 'Qa', { model, environment: 'qa' })).toThrow(ValidationError);
    expect(() => new PlatformStage(new App(), 'Qa', { model, environment: 'qa' })).toThrow(
      /no environment 'qa' in .*; known environments are dev, prod/,
    );
  });
});

describe('PlatformCluster', () => {
  test('throws for a Kubernetes version without a kubectl layer', () => {
    const stack = new Stack(new App(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => new PlatformCluster(stack, 'Cluster', { vpc, kubernetesVersion: '1.29' })).toThrow(
      /'kubernetesVersion' must be one of 1\.34 \(a version with a kubectl layer\), got '1\.29'/,
    );
  });

  test('throws when the node group minimum exceeds the desired size', () => {
    const stack = new Stack(new App(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(
      () =>
        new PlatformCluster(stack, 'Cluster', {
          vpc,
          kubernetesVersion: '1.34',
          nodes: { min: 3, desired: 2, max: 4 },
        }),
    ).toThrow(ValidationError);
  });
});

describe('ClusterAddons', () => {
  test('throws for a Helm timeout that the kubectl Lambda could not finish', () => {
    const stack = new Stack(new App(), 'Test');
    // The timeout is checked before the cluster is used.
    const cluster = {} as eks.Cluster;
    expect(
      () =>
        new ClusterAddons(stack, 'Addons', {
          cluster,
          platform: 'p',
          environment: 'dev',
          gitops: { repoUrl: 'https://github.com/example/platform.git', revision: 'main', path: 'dist' },
          helmTimeout: Duration.minutes(15),
        }),
    ).toThrow(
      /'helmTimeout' must be from 1 to 12 minutes \(the kubectl Lambda stops at 15\), got 15 minutes/,
    );
  });

  test('throws for a tracing sampling percentage Kong could not use', () => {
    const stack = new Stack(new App(), 'Test');
    expect(
      () =>
        new ClusterAddons(stack, 'Addons', {
          cluster: {} as eks.Cluster,
          platform: 'p',
          environment: 'dev',
          gitops: { repoUrl: 'https://github.com/example/platform.git', revision: 'main', path: 'dist' },
          tracingSamplingPercent: 150,
        }),
    ).toThrow(/'tracingSamplingPercent' must be from 0 to 100, got 150/);
  });
});

describe('addPlatformFromContext', () => {
  test('creates the stacks of the environment named by -c env, at the top level of the app', () => {
    const app = new App({ context: { env: 'dev', platformFile: PLATFORM_FIXTURE_FILE } });
    const [dev] = addPlatformFromContext(app);
    expect(dev!.network.stackName).toBe('allinone-dev-network');
    expect(app.node.children.map((c) => c.node.id)).toEqual([
      'allinone-dev-network',
      'allinone-dev-cluster',
      ...model.services.map((s) => `allinone-dev-svc-${s.name}`),
      'allinone-dev-packages',
      'allinone-dev-ci',
    ]);
  });

  test('throws a ValidationError for an unknown -c env', () => {
    const app = new App({ context: { env: 'qa' } });
    expect(() => addPlatformFromContext(app)).toThrow(/no environment 'qa'/);
  });

  test('throws a ValidationError for a missing -c platformFile', () => {
    const app = new App({ context: { platformFile: 'does-not-exist.yaml' } });
    expect(() => addPlatformFromContext(app)).toThrow(ValidationError);
  });
});
