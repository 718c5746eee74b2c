import { Testing } from 'cdk8s';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GatewayChart, type KubeObject } from '../../charts/index.js';
import { renderNginxConfig } from '../../charts/nginx-gateway.js';
import { nginxBinary } from '../../cli/local-gateway.js';

const objects = (routes: ConstructorParameters<typeof GatewayChart>[2]['routes']) =>
  Testing.synth(
    new GatewayChart(Testing.app(), 'gw', {
      hosts: ['shop.example'],
      monolith: { host: 'legacy.example', port: 8080 },
      // routing only here; the token check has its own tests (edge-token.test.ts, edge-token.e2e)
      routes: routes?.map((r) => ({ auth: 'public' as const, ...r })),
    }),
  ) as KubeObject[];

describe('renderNginxConfig', () => {
  test('a backend with no local process answers 503 naming it, and nginx accepts the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aio-nginx-test-'));
    try {
      const text = renderNginxConfig({
        objects: objects([
          { service: 'review', path: '/api/reviews', servicePath: '/reviews', weight: 100, methods: ['GET'] },
        ]),
        upstreams: { 'legacy/monolith': '127.0.0.1:9' },
        port: 9,
        dir,
      });
      expect(text).toContain(
        "'~^GET (?:[0-9]{1,2}) \\\\S+ /api/reviews(?<aio_rest>/.*)?$' 'aio_missing:review/review'",
      );
      expect(text).toContain("'/reviews$aio_rest$is_args$args'");
      expect(text).toContain('limit_req zone=aio_rate burst=600 nodelay;');
      expect(text).toContain('client_max_body_size 8m;');
      writeFileSync(join(dir, 'nginx.conf'), text);
      const t = spawnSync(
        nginxBinary(),
        ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-t'],
        {
          encoding: 'utf8',
        },
      );
      expect(t.stderr).toContain('test is successful');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses what it cannot reproduce instead of routing differently from Kong', () => {
    const objs = objects([{ service: 'order', path: '/api/orders', weight: 50, methods: ['GET'] }]);
    const route = objs.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'order-api-orders')!;
    const rules = (route.spec as { rules: { matches: { headers?: { name: string; value: string }[] }[] }[] })
      .rules;
    rules[0]!.matches[0]!.headers = [{ name: 'x-tenant', value: 'a' }];
    expect(() => renderNginxConfig({ objects: objs, upstreams: {}, port: 9, dir: '/tmp' })).toThrow(
      'the local gateway matches only x-aio-cohort and x-aio-owner, not x-tenant',
    );
  });
});
