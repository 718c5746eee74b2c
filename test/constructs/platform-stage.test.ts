import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, test } from 'vitest';
import { ClusterAddons } from '../../constructs/cluster-addons.js';
import { addPlatformFromContext } from '../../constructs/platform-app.js';
import { PlatformCluster } from '../../constructs/platform-cluster.js';
import { PlatformStage } from '../../constructs/platform-stage.js';
import { loadPlatform, ValidationError } from '../../model/index.js';

// Construction only (no synthesis): the reference platform is synthesized in reference-platform.test.ts.
const model = loadPlatform('platform.yaml');

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
    const app = new App({ context: { env: 'dev', platformFile: 'platform.yaml' } });
    const [dev] = addPlatformFromContext(app);
    expect(dev!.network.stackName).toBe('allinone-dev-network');
    expect(app.node.children.map((c) => c.node.id)).toEqual([
      'allinone-dev-network',
      'allinone-dev-cluster',
      ...model.services.map((s) => `allinone-dev-svc-${s.name}`),
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
