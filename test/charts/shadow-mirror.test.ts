import { fileURLToPath } from 'node:url';
import { Chart, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import type { KubeObject } from '../../charts/apply-order.js';
import { renderNginxConfig } from '../../charts/nginx-gateway.js';
import { platformManifests } from '../../charts/platform-charts.js';
import { ShadowMirror } from '../../charts/shadow-mirror.js';
import { loadPlatform } from '../../model/index.js';
import { validateSchemas } from '../../charts/validation/index.js';

const synth = (routes: { path: string; percent: number }[]) => {
  const chart = new Chart(Testing.app(), 'mesh');
  new ShadowMirror(chart, 'mirror', { routes });
  return Testing.synth(chart) as KubeObject[];
};

describe('ShadowMirror (Istio VirtualService on the monolith host)', () => {
  test('mirrors N % of GET and HEAD on each shadowed path to the comparer, and routes all to the monolith', () => {
    const [vs, ...rest] = synth([
      { path: '/api/stock', percent: 100 },
      { path: '/api/orders/history', percent: 10 },
    ]);
    expect(rest).toEqual([]);
    expect(vs).toMatchObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'monolith-shadow', namespace: 'legacy' },
    });
    const spec = vs!.spec as { hosts: string[]; http: Record<string, unknown>[] };
    expect(spec.hosts).toEqual(['monolith.legacy.svc.cluster.local']);
    const toMonolith = [{ destination: { host: 'monolith.legacy.svc.cluster.local' } }];
    // the comparer's Service port (ShadowComparerChart), not its container port
    const mirror = { host: 'shadow-compare.shadow-compare.svc.cluster.local', port: { number: 80 } };
    const fromKong = { sourceNamespace: 'kong' };
    expect(spec.http).toEqual([
      {
        match: ['GET', 'HEAD'].flatMap((m) => [
          { uri: { exact: '/api/orders/history' }, method: { exact: m }, ...fromKong },
          { uri: { prefix: '/api/orders/history/' }, method: { exact: m }, ...fromKong },
        ]),
        route: toMonolith,
        mirror,
        mirrorPercentage: { value: 10 },
      },
      {
        match: ['GET', 'HEAD'].flatMap((m) => [
          { uri: { exact: '/api/stock' }, method: { exact: m }, ...fromKong },
          { uri: { prefix: '/api/stock/' }, method: { exact: m }, ...fromKong },
        ]),
        route: toMonolith,
        mirror,
        mirrorPercentage: { value: 100 },
      },
      { route: toMonolith },
    ]);
    // never a write method
    expect(JSON.stringify(spec.http)).not.toMatch(/POST|PUT|PATCH|DELETE/);
  });

  test('passes the schema gate (the Istio VirtualService schema)', async () => {
    expect(await validateSchemas(synth([{ path: '/api/stock', percent: 7 }]))).toEqual([]);
  });

  test('refuses a percentage outside 1..100', () => {
    expect(() => synth([{ path: '/api/x', percent: 0 }])).toThrow(
      /shadow of \/api\/x must be an integer from 1 to 100/,
    );
  });

  test('the local gateway renders it as an nginx mirror, only when the comparer runs locally', () => {
    const objects = synth([{ path: '/api/stock', percent: 25 }]);
    const render = (upstreams: Record<string, string>) =>
      renderNginxConfig({ objects, upstreams, port: 8000, dir: '/tmp/x' });
    const off = render({});
    expect(off).not.toMatch(/\bmirror\b/);
    const on = render({ 'shadow-compare/shadow-compare': '127.0.0.1:9100' });
    expect(on).toContain('mirror /.aio/shadow;');
    expect(on).toContain('server 127.0.0.1:9100;');
    // buckets 0..24 of 100, GET and HEAD only
    expect(on).toContain(
      `'~^(?:${Array.from({ length: 25 }, (_, i) => i).join('|')}) GET /api/stock(?:\\\\?.*)?$' 1;`,
    );
    expect(on).toMatch(/HEAD \/api\/stock\/\.\*\$' 1;/);
    expect(on).not.toMatch(/POST/);
  });

  test("from the model, it is on the monolith's ServiceEntry host: Istio 1.21+ matches no VirtualService on the ExternalName alias", () => {
    const objects = platformManifests(
      loadPlatform(fileURLToPath(new URL('../fixtures/shadow/platform.yaml', import.meta.url))),
      'dev',
      { tracing: false },
    );
    const vs = objects.find((o) => o.kind === 'VirtualService' && o.metadata.name === 'monolith-shadow')!;
    const entries = objects
      .filter((o) => o.kind === 'ServiceEntry' && o.metadata.namespace === 'legacy')
      .flatMap((o) => (o.spec as { hosts: string[] }).hosts);
    const spec = vs.spec as { hosts: string[]; http: { route: { destination: { host: string } }[] }[] };
    expect(entries).toEqual(['monolith.internal.allinone.example']);
    expect(spec.hosts).toEqual(entries);
    expect(new Set(spec.http.flatMap((h) => h.route.map((r) => r.destination.host)))).toEqual(
      new Set(entries),
    );
  });
});
