import { Testing } from 'cdk8s';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GatewayChart, TokenIssuer, type KubeObject } from '../../charts/index.js';
import { renderNginxConfig } from '../../charts/nginx-gateway.js';
import { CLAIMS_PLUGIN_NAME, TOKEN_PLUGIN_NAME } from '../../charts/edge-token.js';
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

  test("asks the token verifier about every request with a token, and routes only once the token's cohort is known", () => {
    const dir = mkdtempSync(join(tmpdir(), 'aio-nginx-test-'));
    const text = renderNginxConfig({
      objects: objects([{ service: 'order', path: '/api/orders', weight: 50, methods: ['GET'] }]),
      upstreams: { 'legacy/monolith': '127.0.0.1:9' },
      port: 9,
      dir,
      tokenVerifier: '127.0.0.1:10',
    });
    writeFileSync(join(dir, 'nginx.conf'), text);
    const t = spawnSync(
      nginxBinary(),
      ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-t'],
      {
        encoding: 'utf8',
      },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(t.stderr).toContain('test is successful');
    // public routes too: the verifier names the subject's bucket, the cookie's is the fallback
    expect(text).toContain(
      `map "$aio_auth_route $http_authorization" $aio_ask_verifier { '~^0 $' 0; default 1; }`,
    );
    expect(text).toContain('auth_request_set $aio_subject_cohort $upstream_http_x_aio_subject_cohort;');
    expect(text).toContain(
      "map $aio_subject_cohort $aio_cohort { '~^[0-9]{1,2}$' $aio_subject_cohort; default $aio_cookie_cohort; }",
    );
    // the token check's map has no cohort in its key; the routing maps are read in @aio_route only
    expect(text).toContain('map "$request_method $aio_owner $uri" $aio_auth {');
    const [check, route] = text.split('    location @aio_route {');
    expect(check!.slice(check!.indexOf('    location / {'))).not.toMatch(
      /\$aio_(cohort|backend|upstream_uri)\b/,
    );
    expect(route).toContain('proxy_pass http://$aio_backend$aio_upstream_uri;');
  });

  test('refuses routes whose token check would differ between cohorts: nginx decides it before the cohort is known', () => {
    const objs = Testing.synth(
      new GatewayChart(Testing.app(), 'gw', {
        hosts: ['shop.example'],
        monolith: { host: 'legacy.example', port: 8080 },
        identity: TokenIssuer.of({
          issuer: 'https://login.example/',
          audience: 'shop',
          jwksUri: 'https://login.example/jwks',
        }),
        routes: [{ service: 'order', path: '/api/orders', weight: 50, methods: ['GET'], auth: 'customer' }],
      }),
    ) as KubeObject[];
    const route = objs.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'order-api-orders')!;
    const spec = route.spec as { rules: unknown[] };
    // the service's cohort rule moved to a public route of its own, the monolith's kept the token check
    const annotations = route.metadata.annotations as Record<string, string>;
    const publicPlugins = annotations['konghq.com/plugins']!.split(',').filter(
      (n) => n !== TOKEN_PLUGIN_NAME && n !== CLAIMS_PLUGIN_NAME,
    );
    const split: KubeObject = {
      ...route,
      metadata: {
        ...route.metadata,
        name: 'order-cohort',
        annotations: { ...annotations, 'konghq.com/plugins': publicPlugins.join(',') },
      },
      spec: { ...spec, rules: [spec.rules[0]] },
    };
    const kept: KubeObject = { ...route, spec: { ...spec, rules: spec.rules.slice(1) } };
    expect(() =>
      renderNginxConfig({
        objects: [...objs.map((o) => (o === route ? kept : o)), split],
        upstreams: {},
        port: 9,
        dir: '/tmp',
        tokenVerifier: '127.0.0.1:10',
      }),
    ).toThrow(
      /needs one token check per method and path, but .* is customer for one cohort and public for another/,
    );
  });
});
