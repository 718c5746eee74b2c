import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  checkEdgeAuth,
  checkPolicies,
  GatewayChart,
  validateSchemas,
  type KubeObject,
} from '../../charts/index.js';
import { PlatformModel, type PlatformSpec } from '../../model/index.js';
import { at, find, keySyncEnv, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const objects = synth(new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'dev')));
const plugins = (o: KubeObject) => String(at(o, 'metadata', 'annotations', 'konghq.com/plugins')).split(',');

describe('EdgeTokenCheck (Kong)', () => {
  test('customer routes run jwt then the claims check; public routes and the catch-all do not', () => {
    expect(plugins(find(objects, 'HTTPRoute', 'order-api-orders', 'kong')).slice(-2)).toEqual([
      'customer-token',
      'customer-claims',
    ]);
    for (const name of ['inventory-api-stock', 'monolith-catch-all']) {
      expect(plugins(find(objects, 'HTTPRoute', name, 'kong'))).not.toContain('customer-token');
    }
  });

  test('jwt finds the key by kid, reads only the Authorization header and hands failures on anonymously', () => {
    expect(find(objects, 'KongPlugin', 'customer-token', 'kong')).toMatchObject({
      plugin: 'jwt',
      config: {
        key_claim_name: 'kid',
        claims_to_verify: ['exp'],
        header_names: ['authorization'],
        uri_param_names: [],
        cookie_names: [],
        anonymous: 'aio-anonymous',
      },
    });
    const lua = at<string[]>(find(objects, 'KongPlugin', 'customer-claims', 'kong'), 'config', 'access')[0]!;
    expect(lua).toContain('kong.response.exit(401');
    expect(lua).toContain("'application/problem+json'");
    // iss and aud are compared with the verifying credential's tags, never with literals
    expect(lua).toContain("if not credential or type(credential.tags) ~= 'table' then return deny() end");
    expect(lua).toContain("not tagged('aio-iss:', claims.iss) then return deny()");
    expect(lua).toContain("ok = tagged('aio-aud:', aud)");
    expect(lua).not.toContain('login.allinone.example');
    expect(lua).not.toContain('allinone-shop');
    expect(lua).toContain('kong.ctx.shared.aio_cohort_subject ~= claims.sub');
  });

  test('the cohort comes from the bearer token subject, and client identity headers are removed', () => {
    const rewrite = at<string[]>(find(objects, 'KongClusterPlugin', 'aio-cohort'), 'config', 'rewrite')[0]!;
    expect(rewrite.indexOf("id = 'sub:' .. claims.sub")).toBeGreaterThan(-1);
    expect(rewrite.indexOf("id = 'sub:'")).toBeLessThan(rewrite.indexOf('ngx.var.cookie_aio_customer'));
    expect(rewrite).toContain("kong.service.request.clear_header('x-consumer-username')");
  });

  test('keys come from the JWKS through fixed credential slots: no key in the synthesized files', () => {
    expect(find(objects, 'KongConsumer', 'aio-customers', 'kong')).toMatchObject({
      credentials: ['aio-issuer-key-0', 'aio-issuer-key-1', 'aio-issuer-key-2'],
    });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const env = keySyncEnv(objects);
    // a named issuer's values are written into the job: the credentials get tagged with them
    expect(env.filter((e) => ['ISSUER', 'AUDIENCE', 'JWKS_URI'].includes(e.name))).toEqual([
      { name: 'ISSUER', value: 'https://login.allinone.example/' },
      { name: 'AUDIENCE', value: 'allinone-shop' },
      { name: 'JWKS_URI', value: 'https://login.allinone.example/.well-known/jwks.json' },
    ]);
    expect(objects.filter((o) => o.kind === 'ExternalSecret')).toEqual([]);
    const role = find(objects, 'Role', 'issuer-key-sync', 'kong');
    expect(at(role, 'rules')).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['aio-issuer-key-0', 'aio-issuer-key-1', 'aio-issuer-key-2'],
        verbs: ['get', 'update'],
      },
    ]);
  });

  test('the objects pass the schema and policy gates, and the edge-auth gate', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
    expect(checkPolicies(objects)).toEqual([]);
    expect(checkEdgeAuth(objects, model)).toEqual([]);
  });

  test('throws on a customer route without an identity to check tokens against', () => {
    const props = GatewayChart.propsFromModel(model, 'dev');
    expect(() => new GatewayChart(Testing.app(), 'x', { ...props, identity: undefined })).toThrow(
      "route /api/notifications: 'auth' is customer, but the gateway has no 'identity'",
    );
  });
});

describe('edge-auth gate', () => {
  test('refuses a customer route whose HTTPRoute lacks the token check, and a route without a level', () => {
    const stripped = objects.map((o) =>
      o.kind === 'HTTPRoute' && o.metadata.name === 'order-api-orders'
        ? {
            ...o,
            metadata: {
              ...o.metadata,
              annotations: {
                'konghq.com/plugins': plugins(o)
                  .filter((p) => p !== 'customer-claims')
                  .join(','),
              },
            },
          }
        : o,
    );
    const spec = structuredClone(model.spec) as PlatformSpec;
    delete (spec.services.review!.routes[0] as { auth?: string }).auth;
    const findings = checkEdgeAuth(stripped, new PlatformModel(spec, model.file));
    expect(findings.map((f) => [f.rule, f.path])).toEqual([
      ['route-auth-level', `${model.file} services.review.routes[0].auth`],
      ['edge-token-check', 'HTTPRoute/kong/order-api-orders metadata.annotations.konghq.com/plugins'],
    ]);
    expect(findings[1]!.message).toContain("does not run the post-function plugin 'customer-claims'");
  });
});
