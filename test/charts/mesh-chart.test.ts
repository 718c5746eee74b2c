import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { MeshChart, type KubeObject } from '../../charts/index.js';
import { at, find, grants, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const objects = synth(new MeshChart(Testing.app(), 'mesh', MeshChart.propsFromModel(model)));
const policies = objects.filter((o) => o.kind === 'AuthorizationPolicy');

/** `caller→callee` for every principal an ALLOW policy admits, gateway excluded. */
function allowedEdges(list: readonly KubeObject[]): string[] {
  return list.flatMap((p) => {
    const rules =
      at<{ from?: { source: { principals?: string[] } }[] }[] | undefined>(p, 'spec', 'rules') ?? [];
    return rules.flatMap((r) =>
      (r.from ?? []).flatMap((f) =>
        (f.source.principals ?? []).map((pr) => `${/\/sa\/([^/]+)$/.exec(pr)?.[1]}→${p.metadata.namespace}`),
      ),
    );
  });
}

describe('MeshChart', () => {
  test('enforces STRICT mTLS mesh-wide and samples traces at the platform percentage', () => {
    expect(at(find(objects, 'PeerAuthentication', 'default', 'istio-system'), 'spec')).toEqual({
      mtls: { mode: 'STRICT' },
    });
    expect(at(find(objects, 'Telemetry', 'mesh-default', 'istio-system'), 'spec', 'tracing', 0)).toEqual({
      providers: [{ name: 'jaeger' }],
      randomSamplingPercentage: 10,
    });
  });

  test('denies by default in every service namespace', () => {
    for (const svc of model.services) {
      expect(at(find(objects, 'AuthorizationPolicy', 'default-deny', svc.name), 'spec')).toEqual({});
    }
  });

  test('the ALLOW policies are exactly the calls graph, plus Kong for routed services only', () => {
    const fromCallers = policies.filter((p) => p.metadata.name?.endsWith('-allow-callers'));
    expect(allowedEdges(fromCallers).sort()).toEqual(model.callGraph().map((e) => `${e.from}→${e.to}`));
    const gatewayAllowed = policies
      .filter((p) => p.metadata.name?.endsWith('-allow-gateway'))
      .map((p) => {
        expect(at(p, 'spec', 'rules', 0, 'from', 0, 'source', 'principals')).toEqual([
          'cluster.local/ns/kong/sa/kong-gateway',
        ]);
        return p.metadata.namespace;
      });
    expect(gatewayAllowed.sort()).toEqual(model.routedServices.map((s) => s.name).sort());
    expect(
      policies.every((p) => p.metadata.name === 'default-deny' || at(p, 'spec', 'action') === 'ALLOW'),
    ).toBe(true);
  });

  test('every ALLOW rule names its operations: no principal gets a whole service', () => {
    for (const p of policies.filter((x) => x.metadata.name !== 'default-deny')) {
      const rules = at<{ to?: { operation?: { methods?: string[]; paths?: string[] } }[] }[]>(
        p,
        'spec',
        'rules',
      );
      for (const r of rules) {
        expect(r.to?.length, p.metadata.name).toBeGreaterThan(0);
        for (const t of r.to!) {
          expect(t.operation?.methods?.length, p.metadata.name).toBeGreaterThan(0);
          expect(t.operation?.paths?.length, p.metadata.name).toBeGreaterThan(0);
        }
      }
    }
  });

  test('operators alone reach the operator endpoints: the sagas, the metrics, stock writes', () => {
    const ops = grants(find(objects, 'AuthorizationPolicy', 'order-allow-operators', 'order'));
    expect(ops).toEqual(
      expect.arrayContaining(['GET /sagas', 'GET /sagas/{*}', 'POST /sagas/{*}/retry', 'GET /metrics']),
    );
    expect(
      at(find(objects, 'AuthorizationPolicy', 'order-allow-operators', 'order'), 'spec', 'rules', 0, 'from'),
    ).toEqual([{ source: { principals: ['cluster.local/ns/ops/sa/operator'] } }]);
    expect(grants(find(objects, 'AuthorizationPolicy', 'inventory-allow-operators', 'inventory'))).toContain(
      'PUT /stock/{*}',
    );
    expect(grants(find(objects, 'AuthorizationPolicy', 'inventory-allow-gateway', 'inventory'))).toEqual([
      'GET /stock/{*}',
    ]);
  });
  test('review (non-critical) fails fast: short timeout, transport-only retry, ejection above the panic threshold', () => {
    const vs = find(objects, 'VirtualService', 'review', 'review');
    expect(at(vs, 'spec', 'hosts')).toEqual(['review.review.svc.cluster.local']);
    expect(at(vs, 'spec', 'http', 0)).toMatchObject({
      timeout: '1s',
      retries: { attempts: 1, perTryTimeout: '1s', retryOn: 'connect-failure,reset' },
    });
    expect(at(find(objects, 'DestinationRule', 'review', 'review'), 'spec', 'trafficPolicy')).toEqual({
      tls: { mode: 'ISTIO_MUTUAL' },
      connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 100 } },
      outlierDetection: {
        consecutive5xxErrors: 3,
        interval: '5s',
        baseEjectionTime: '60s',
        maxEjectionPercent: 50,
        minHealthPercent: 50,
      },
    });
  });

  test('one retry layer: saga participants are retried by the mesh on connect-failure and reset only', () => {
    for (const svc of ['inventory', 'payment']) {
      expect(at(find(objects, 'VirtualService', svc, svc), 'spec', 'http', 0)).toMatchObject({
        timeout: '2s',
        retries: { attempts: 1, perTryTimeout: '2s', retryOn: 'connect-failure,reset' },
      });
    }
  });

  test("a service's own mesh timeouts replace its tier's: catalog within order's 1 s, order's longer", () => {
    expect(at(find(objects, 'VirtualService', 'catalog', 'catalog'), 'spec', 'http', 0)).toMatchObject({
      timeout: '1s',
      retries: { attempts: 1, perTryTimeout: '1s', retryOn: 'connect-failure,reset' },
    });
    expect(at(find(objects, 'VirtualService', 'order', 'order'), 'spec', 'http', 0)).toMatchObject({
      timeout: '5s',
      retries: { perTryTimeout: '5s' },
    });
  });

  test('throws on a sampling percentage outside 0..100', () => {
    expect(() => new MeshChart(Testing.app(), 'm', { services: [], samplingPercentage: 150 })).toThrow(
      "'samplingPercentage' must be from 0 to 100, got 150",
    );
  });
});
