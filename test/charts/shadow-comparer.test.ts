import { Testing } from 'cdk8s';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  buildPlatformCharts,
  checkManifests,
  checkPolicies,
  platformManifests,
  validateSchemas,
  type KubeObject,
} from '../../charts/index.js';
import { ShadowComparerChart, shadowedServices } from '../../charts/shadow-comparer.js';
import { loadPlatform } from '../../model/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

/** The strangler fixture with /api/orders and /api/stock shadowed at 100 %. */
const shadowed = loadPlatform(fileURLToPath(new URL('../fixtures/shadow/platform.yaml', import.meta.url)));
const objects = platformManifests(shadowed, 'dev');
// the comparer chart's own objects; its NetworkPolicies come from the NetworkPolicyChart
const comparerObjects = objects.filter(
  (o) => o.metadata.namespace === 'shadow-compare' && o.kind !== 'NetworkPolicy',
);

describe('ShadowComparerChart', () => {
  test('is synthesized only when some route has shadow above 0', () => {
    expect(buildPlatformCharts(referenceModel(), 'dev').shadowComparer).toBeUndefined();
    expect(platformManifests(referenceModel(), 'dev').some((o) => o.metadata.name === 'shadow-compare')).toBe(
      false,
    );
    expect(comparerObjects.map((o) => o.kind).sort()).toEqual([
      'AuthorizationPolicy',
      'AuthorizationPolicy',
      'ConfigMap',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    expect(find(objects, 'Namespace', 'shadow-compare').metadata.labels).toMatchObject({
      'istio-injection': 'enabled',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  test("the monolith's mirror reaches the comparer's Service, whose selector and targetPort reach its container", () => {
    const vs = find(objects, 'VirtualService', 'monolith-shadow', 'legacy');
    const mirrors = at<{ mirror?: { host: string; port: { number: number } } }[]>(vs, 'spec', 'http')
      .map((h) => h.mirror)
      .filter((m) => m !== undefined);
    expect(mirrors).toHaveLength(2);
    const svc = find(objects, 'Service', 'shadow-compare', 'shadow-compare');
    const ports = at<{ port: number; targetPort: number }[]>(svc, 'spec', 'ports');
    for (const m of mirrors) {
      expect(m.host).toBe(`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
      expect(ports.map((p) => p.port)).toContain(m.port.number);
    }
    const deploy = find(objects, 'Deployment', 'shadow-compare', 'shadow-compare');
    const podLabels = at<Record<string, string>>(deploy, 'spec', 'template', 'metadata', 'labels');
    expect(podLabels).toMatchObject(at<Record<string, string>>(svc, 'spec', 'selector'));
    const container = at<Record<string, unknown>>(deploy, 'spec', 'template', 'spec', 'containers', 0);
    const env = Object.fromEntries(
      (container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(at(container, 'ports', 0, 'containerPort')).toBe(ports[0]!.targetPort);
    expect(env.PORT).toBe(String(ports[0]!.targetPort));
    // in a pod it must listen beyond loopback: the sidecar forwards to the pod IP
    expect(env.HOST).toBe('0.0.0.0');
    // records on stdout (kubectl logs), routes from the mounted ConfigMap
    expect(env.AIO_SHADOW_LOG).toBe('-');
    expect(env).toMatchObject({
      MONOLITH_URL: 'http://monolith.legacy.svc.cluster.local:8080',
      ORDER_URL: 'http://order.order.svc.cluster.local',
      INVENTORY_URL: 'http://inventory.inventory.svc.cluster.local',
    });
    const mount = at<{ mountPath: string; name: string }>(container, 'volumeMounts', 0);
    expect(env.AIO_SHADOW_ROUTES).toBe(`${mount.mountPath}/routes.json`);
    const volume = at<{ name: string; configMap: { name: string } }[]>(
      deploy,
      'spec',
      'template',
      'spec',
      'volumes',
    ).find((v) => v.name === mount.name)!;
    const routes = find(objects, 'ConfigMap', volume.configMap.name, 'shadow-compare');
    expect(JSON.parse(at<string>(routes, 'data', 'routes.json'))).toEqual(
      shadowed
        .routes()
        .filter((r) => r.shadow > 0)
        .map((r) => ({
          service: r.service,
          path: r.path,
          servicePath: r.servicePath,
          shadow: r.shadow,
          shadowIgnore: r.shadowIgnore,
        })),
    );
  });

  test('only mirrors requests from the gateway, so the comparer never mirrors its own reads', () => {
    const vs = find(objects, 'VirtualService', 'monolith-shadow', 'legacy');
    const matches = at<{ match?: { sourceNamespace?: string }[] }[]>(vs, 'spec', 'http').flatMap(
      (h) => h.match ?? [],
    );
    expect(matches.length).toBeGreaterThan(0);
    expect(new Set(matches.map((m) => m.sourceNamespace))).toEqual(new Set(['kong']));
    // and Kong's requests carry the upstream's Host, which is what its sidecar matches the VirtualService on
    const routes = objects.filter((o) => o.kind === 'HTTPRoute');
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes)
      expect(r.metadata.annotations).toMatchObject({ 'konghq.com/preserve-host': 'false' });
  });

  test('authorizes its call graph: Kong reads the comparer, the comparer reads each shadowed service path', () => {
    expect(at(find(objects, 'AuthorizationPolicy', 'default-deny', 'shadow-compare'), 'spec')).toEqual({});
    expect(
      at(find(objects, 'AuthorizationPolicy', 'shadow-compare-allow-mirror', 'shadow-compare'), 'spec'),
    ).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'shadow-compare' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/kong/sa/kong-gateway'] } }],
          to: [
            {
              operation: {
                methods: ['GET', 'HEAD'],
                paths: ['/api/orders', '/api/orders/*', '/api/stock', '/api/stock/*'],
              },
            },
          ],
        },
      ],
    });
    const order = find(objects, 'AuthorizationPolicy', 'order-allow-shadow-compare', 'order');
    expect(at(order, 'spec')).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'order' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/shadow-compare/sa/shadow-compare'] } }],
          to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/orders', '/orders/*'] } }],
        },
      ],
    });
    // the principal is the comparer's own ServiceAccount, which its pods run as
    const sa = find(objects, 'ServiceAccount', 'shadow-compare', 'shadow-compare');
    const deploy = find(objects, 'Deployment', 'shadow-compare', 'shadow-compare');
    expect(at(deploy, 'spec', 'template', 'spec', 'serviceAccountName')).toBe(sa.metadata.name);
    find(objects, 'AuthorizationPolicy', 'inventory-allow-shadow-compare', 'inventory');
  });

  test('passes the schema gate and the policy gate (Pod Security restricted, probes, resources, pinned image)', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
    expect(checkPolicies(objects)).toEqual([]);
    // and every gate aio synth runs: the mesh gate refused the mirror's ALLOW without paths
    expect(await checkManifests(objects, shadowed)).toEqual([]);
    const deploy = find(objects, 'Deployment', 'shadow-compare', 'shadow-compare');
    expect(at(deploy, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe(
      '111111111111.dkr.ecr.ap-northeast-2.amazonaws.com/allinone/shadow-compare:0.1.0',
    );
    // the gate is not vacuous here: a writable root filesystem is refused
    const broken = objects.map((o) => {
      if (o !== deploy) return o;
      const copy = structuredClone(o) as KubeObject & {
        spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } };
      };
      copy.spec.template.spec.containers[0]!.securityContext.readOnlyRootFilesystem = false;
      return copy;
    });
    expect(checkPolicies(broken).map((f) => f.rule)).toEqual(['pss-restricted']);
  });

  test('groups shadowed routes by service, and refuses a chart with no route', () => {
    const route = (service: string, servicePath: string) => ({
      service,
      path: `/api${servicePath}`,
      servicePath,
      shadow: 5,
      shadowIgnore: [],
    });
    expect(
      shadowedServices([route('order', '/orders'), route('inventory', '/stock'), route('order', '/carts')]),
    ).toEqual([
      { name: 'inventory', servicePaths: ['/stock'] },
      { name: 'order', servicePaths: ['/carts', '/orders'] },
    ]);
    const chart = () => synth(new ShadowComparerChart(Testing.app(), 'x', { image: 'a/b:1', routes: [] }));
    expect(chart).toThrow(/'routes' must list at least one shadowed route/);
  });
});
