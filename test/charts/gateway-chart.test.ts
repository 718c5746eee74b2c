import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { GatewayChart, GatewayTls } from '../../charts/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const objects = synth(new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'dev')));

describe('GatewayChart', () => {
  test('a weight selects customer buckets: own-id reads, the cohort to the service, the rest to the monolith', () => {
    const rules = at<Record<string, unknown>[]>(
      find(objects, 'HTTPRoute', 'order-api-orders', 'kong'),
      'spec',
      'rules',
    );
    const rewrite = [
      {
        type: 'URLRewrite',
        urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/orders' } },
      },
    ];
    const order = [{ name: 'order', namespace: 'order', port: 80, weight: 100 }];
    const prefix = { type: 'PathPrefix', value: '/api/orders' };
    expect(rules).toEqual([
      {
        matches: [{ path: prefix, method: 'GET', headers: [{ name: 'x-aio-owner', value: 'order' }] }],
        filters: rewrite,
        backendRefs: order,
      },
      {
        matches: [{ path: prefix, method: 'GET', headers: [{ name: 'x-aio-owner', value: 'monolith' }] }],
        backendRefs: [{ name: 'monolith', namespace: 'legacy', port: 8080, weight: 100 }],
      },
      {
        matches: ['GET', 'POST'].map((method) => ({
          path: prefix,
          method,
          headers: [{ type: 'RegularExpression', name: 'x-aio-cohort', value: '^([0-9]|1[0-9]|2[0-4])$' }],
        })),
        filters: rewrite,
        backendRefs: order,
      },
      {
        matches: ['GET', 'POST'].map((method) => ({ path: prefix, method })),
        backendRefs: [{ name: 'monolith', namespace: 'legacy', port: 8080, weight: 100 }],
      },
    ]);
    // weight 100: no monolith rule; every route forwards the path as written unless it rewrites it
    const stock = at<unknown[]>(find(objects, 'HTTPRoute', 'inventory-api-stock', 'kong'), 'spec', 'rules');
    expect(stock).toHaveLength(1); // stock reads name SKUs, not minted ids: no owner rules
    for (const r of objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect(at(r, 'metadata', 'annotations', 'konghq.com/strip-path')).toBe('false');
    }
  });

  test('the cohort header and the owner header are computed by a global pre-function before routing', () => {
    const cohort = find(objects, 'KongClusterPlugin', 'aio-cohort');
    expect(at(cohort, 'metadata', 'labels')).toEqual({ global: 'true' });
    expect(at(cohort, 'plugin')).toBe('pre-function');
    const owners = JSON.parse(
      at<string>(cohort, 'metadata', 'annotations', 'aio.dev/own-id-paths'),
    ) as Record<string, string[]>;
    expect(Object.keys(owners).sort()).toEqual(['monolith', 'notification', 'order', 'review']);
    expect(owners.monolith!.some((re) => new RegExp(re).test('/api/orders/1001'))).toBe(true);
    expect(new RegExp(owners.order![0]!).test('/api/orders/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(true);
    expect(new RegExp(owners.order![0]!).test('/api/orders/1001')).toBe(false);
    expect(at<string[]>(cohort, 'config', 'rewrite')[0]).toContain("set_header('x-aio-cohort'");
  });

  test('the monolith operator endpoints answer 404 at the edge', () => {
    const route = find(objects, 'HTTPRoute', 'monolith-operator-paths', 'kong');
    expect(at<string>(route, 'metadata', 'annotations', 'konghq.com/plugins')).toMatch(
      /,operator-not-found$/,
    );
    expect(at(route, 'spec', 'rules', 0, 'matches')).toContainEqual({
      method: 'PUT',
      path: { type: 'RegularExpression', value: '^/api/stock/[^/]+$' },
    });
    expect(at(find(objects, 'KongPlugin', 'operator-not-found', 'kong'), 'config', 'status_code')).toBe(404);
  });

  test("takes its routes from the model's typed routes() view, not the display table", () => {
    const routes = GatewayChart.propsFromModel(model, 'dev').routes!;
    expect(routes.map((r) => ({ service: r.service, path: r.path }))).toEqual(
      model.routes().map((r) => ({ service: r.service, path: r.path })),
    );
    routes.forEach((r, i) => expect(r).toMatchObject(model.routes()[i]!));
    expect(routes).toContainEqual(
      expect.objectContaining({
        service: 'order',
        path: '/api/orders',
        weight: 25,
        monolithWeight: 75,
        cohort: { firstBucket: 0, lastBucket: 24 },
      }),
    );
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
      expect(at(r, 'metadata', 'annotations', 'konghq.com/plugins')).toMatch(
        /^rate-limiting,correlation-id,request-size-limiting,opentelemetry(,operator-not-found|,customer-token,customer-claims)?$/,
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
      routes: [{ service: 'order', path: '/x', weight: 101, methods: ['GET'] }],
    };
    expect(() => new GatewayChart(Testing.app(), 'gw', props)).toThrow(
      "route /x: 'weight' must be an integer from 0 to 100, got 101",
    );
  });
});
