import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { objectId, platformManifests, type KubeObject } from '../../charts/index.js';
import { loadPlatform } from '../../model/index.js';

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const registered: Registered[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    'aio-platform-k8s',
    'dev',
    false,
  );
});

describe('Pulumi program', () => {
  test('deploys exactly the cdk8s objects of dev, one resource per object, in stage groups', async () => {
    const { deployManifests } = await import('../../charts/pulumi-program.js');
    const objects = platformManifests(loadPlatform(PLATFORM_FIXTURE_FILE), 'dev');
    const groups = deployManifests(objects);
    // Children are created when `objs` resolves; wait until every child is registered.
    const urns = groups.map((g) =>
      g.resources.apply((rs) => pulumi.all(Object.values(rs).map((r) => r.urn))),
    );
    await new Promise<void>((resolve) => pulumi.all(urns).apply(() => resolve()));

    const fromPulumi = registered
      .filter((r) => r.type.startsWith('kubernetes:') && r.type !== 'kubernetes:yaml:ConfigGroup')
      .map((r) => objectId(r.inputs as unknown as KubeObject))
      .sort();
    expect(fromPulumi).toEqual(objects.map(objectId).sort());
    expect(registered.filter((r) => r.type === 'kubernetes:yaml:ConfigGroup').map((r) => r.name)).toEqual([
      'k8s-00-namespaces',
      'k8s-01-identity',
      'k8s-02-mesh-policy',
      'k8s-03-secrets',
      'k8s-04-workloads',
      'k8s-05-gateway',
    ]);
    // CRD-backed kinds become typed custom resources, not opaque YAML.
    expect(registered.map((r) => r.type)).toContain('kubernetes:networking.istio.io/v1:VirtualService');
  });
});
