import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { GatewayChart, GatewayTls, routeName } from '../../charts/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const objects = synth(new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'dev')));
type Backend = { name: string; namespace: string; port: number; weight: number };
const backends = (name: string) =>
  at<Backend[]>(find(objects, 'HTTPRoute', name, 'kong'), 'spec', 'rules', 0, 'backendRefs');

describe('GatewayChart', () => {
  test('splits each migrated path by weight between the service and the monolith', () => {
    expect(backends('order-api-orders')).toEqual([
      { name: 'order', namespace: 'order', port: 80, weight: 25 },
      { name: 'monolith', namespace: 'legacy', port: 8080, weight: 75 },
    ]);
    expect(backends('notification-api-notifications').map((b) => b.weight)).toEqual([50, 50]);
    expect(backends('inventory-api-stock').map((b) => b.weight)).toEqual([100, 0]);
    for (const row of model.routes()) {
      const route = find(objects, 'HTTPRoute', routeName(row.service, row.path), 'kong');
      expect(at(route, 'spec', 'rules')).toHaveLength(1);
      expect(at(route, 'spec', 'rules', 0, 'matches')).toEqual([
        { path: { type: 'PathPrefix', value: row.path } },
      ]);
    }
  });

  test("takes its routes from the model's typed routes() view, not the display table", () => {
    const routes = GatewayChart.propsFromModel(model, 'dev').routes;
    expect(routes).toEqual(model.routes());
    expect(routes).toContainEqual({
      service: 'order',
      path: '/api/orders',
      weight: 25,
      monolithWeight: 75,
      cohort: { firstBucket: 0, lastBucket: 24 },
    });
  });

  test('sends everything else to the monolith, an ExternalName Service in legacy', () => {
    const catchAll = find(objects, 'HTTPRoute', 'monolith-catch-all', 'kong');
    expect(at(catchAll, 'spec', 'rules')).toEqual([
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ name: 'monolith', namespace: 'legacy', port: 8080, weight: 100 }],
      },
    ]);
    expect(at(find(objects, 'Service', 'monolith', 'legacy'), 'spec')).toMatchObject({
      type: 'ExternalName',
      externalName: 'monolith.internal.allinone.example',
    });
    expect(at(find(objects, 'ServiceEntry', 'monolith', 'legacy'), 'spec')).toEqual({
      hosts: ['monolith.internal.allinone.example'],
      ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
    });
    // Cross-namespace backends are granted by each backend namespace.
    for (const ns of ['legacy', 'order', 'inventory', 'review', 'notification'])
      find(objects, 'ReferenceGrant', 'kong-routes', ns);
    expect(objects.some((o) => o.kind === 'ReferenceGrant' && o.metadata.namespace === 'payment')).toBe(
      false,
    );
  });

  test('every route uses the edge plugins; OpenTelemetry propagates W3C trace context', () => {
    for (const r of objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect(at(r, 'metadata', 'annotations', 'konghq.com/plugins')).toBe(
        'rate-limiting,correlation-id,request-size-limiting,opentelemetry',
      );
    }
    expect(at(find(objects, 'KongPlugin', 'rate-limiting', 'kong'), 'config', 'minute')).toBe(1200);
    expect(at(find(objects, 'KongPlugin', 'opentelemetry', 'kong'), 'config')).toMatchObject({
      traces_endpoint: 'http://jaeger-collector.observability.svc.cluster.local:4318/v1/traces',
      propagation: { default_format: 'w3c' },
    });
  });

  test('Kong is in the mesh: sidecars, plaintext only on the proxy ports, default-deny otherwise', () => {
    // The AWS layer creates Kong's namespace (with injection) before Kong; the chart only adds policy.
    expect(objects.some((o) => o.kind === 'Namespace' && o.metadata.name === 'kong')).toBe(false);
    expect(at(find(objects, 'Namespace', 'legacy'), 'metadata', 'labels', 'istio-injection')).toBe('enabled');
    expect(at(find(objects, 'PeerAuthentication', 'kong-proxy', 'kong'), 'spec', 'portLevelMtls')).toEqual({
      '8000': { mode: 'PERMISSIVE' },
      '8443': { mode: 'PERMISSIVE' },
    });
    expect(at(find(objects, 'AuthorizationPolicy', 'default-deny', 'kong'), 'spec')).toEqual({});
  });

  test('terminates TLS at the load balancer when the env has a certificate, else with a Secret', () => {
    const lb = find(objects, 'Gateway', 'kong', 'kong');
    expect(at(lb, 'spec', 'listeners', 0)).toMatchObject({
      hostname: 'shop.allinone.example',
      port: 80,
      protocol: 'HTTP',
    });
    const props = { ...GatewayChart.propsFromModel(model, 'dev'), tls: GatewayTls.secret('shop-tls') };
    const gw = find(synth(new GatewayChart(Testing.app(), 'gw', props)), 'Gateway', 'kong', 'kong');
    expect(at(gw, 'spec', 'listeners', 0)).toMatchObject({
      port: 443,
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'shop-tls' }] },
    });
  });

  test('throws on a weight outside 0..100', () => {
    const props = {
      ...GatewayChart.propsFromModel(model, 'dev'),
      routes: [{ service: 'order', path: '/x', weight: 101 }],
    };
    expect(() => new GatewayChart(Testing.app(), 'gw', props)).toThrow(
      "route /x: 'weight' must be an integer from 0 to 100, got 101",
    );
  });
});
