import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { GatewayChart, HTTP_METHODS, isHttpMethod, type KubeObject } from '../../charts/index.js';
import { renderNginxConfig } from '../../charts/nginx-gateway.js';
import { ValidationError } from '../../model/validation-error.js';

const chart = (props: Partial<ConstructorParameters<typeof GatewayChart>[2]>) =>
  new GatewayChart(Testing.app(), 'gw', {
    hosts: ['shop.example'],
    monolith: { host: 'legacy.example', port: 8080 },
    ...props,
  });

describe('HTTPRoute types from @kubernetes-models/gateway-api', () => {
  test('the method guard accepts exactly the upper-case Gateway API methods', () => {
    expect([...HTTP_METHODS].sort()).toEqual([
      'CONNECT',
      'DELETE',
      'GET',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'POST',
      'PUT',
      'TRACE',
    ]);
    for (const m of HTTP_METHODS) expect(isHttpMethod(m)).toBe(true);
    for (const m of ['get', 'FETCH', 'toString', 'constructor', '']) expect(isHttpMethod(m)).toBe(false);
  });

  test('a route method Gateway API does not know is a ValidationError naming the route', () => {
    const build = () =>
      chart({
        routes: [
          { service: 'order', path: '/api/orders', weight: 50, methods: ['GET', 'get'], auth: 'public' },
        ],
      });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow("route /api/orders: 'get' is not an HTTPRoute method; use one of GET, HEAD,");
  });

  test('an operator operation with an unknown method is a ValidationError naming it', () => {
    expect(() => chart({ monolithOperatorOps: [{ method: 'PURGE', path: '^/admin$' }] })).toThrow(
      "monolith operator operation PURGE ^/admin$: 'PURGE' is not an HTTPRoute method",
    );
  });

  test('the local gateway reads an absent path, matches list and weight as Gateway API defaults', () => {
    const objects = Testing.synth(chart({})) as KubeObject[];
    const route = objects.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'monolith-catch-all')!;
    const rendered = (spec: unknown) =>
      renderNginxConfig({
        objects: objects.map((o) => (o === route ? { ...o, spec } : o)),
        upstreams: { 'legacy/monolith': '127.0.0.1:9' },
        port: 9,
        dir: '/tmp/unused',
      });
    const explicit = rendered(route.spec);
    const ref = { name: 'monolith', namespace: 'legacy', port: 8080 };
    expect(rendered({ rules: [{ matches: [{}], backendRefs: [ref] }] })).toBe(explicit);
    expect(rendered({ rules: [{ matches: [{ path: {} }], backendRefs: [ref] }] })).toBe(explicit);
    expect(rendered({ rules: [{ backendRefs: [ref] }] })).toBe(explicit);
    expect(() => rendered({ rules: [{ matches: [{}] }] })).toThrow(
      'HTTPRoute monolith-catch-all: the local gateway needs a backendRef in every rule',
    );
  });
});
