import { describe, expect, test } from 'vitest';
import {
  checkMeshPolicies,
  istioPathMatches,
  platformManifests,
  type KubeObject,
} from '../../charts/index.js';
import { planMesh } from '../../model/index.js';
import { referenceModel } from './helpers.js';

const model = referenceModel();
const plan = planMesh(model);
const dev = platformManifests(model, 'dev');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Editable = Record<string, any>;

function edit(kind: string, name: string, namespace: string, change: (o: Editable) => void): KubeObject[] {
  return dev.map((o) => {
    if (o.kind !== kind || o.metadata.name !== name || o.metadata.namespace !== namespace) return o;
    const copy = structuredClone(o) as Editable;
    change(copy);
    return copy as KubeObject;
  });
}

const found = (objects: readonly KubeObject[]) =>
  checkMeshPolicies(objects, plan).map((f) => `${f.rule} ${f.path}: ${f.message}`);

describe('mesh gate', () => {
  test('passes the reference platform', () => {
    expect(found(dev)).toEqual([]);
    expect(found(platformManifests(model, 'prod'))).toEqual([]);
  });

  test('rejects an ALLOW rule for the gateway without to.operation, naming the object and field', () => {
    const objects = edit('AuthorizationPolicy', 'review-allow-gateway', 'review', (o) => {
      delete o.spec.rules[0].to;
    });
    const findings = found(objects);
    expect(findings).toContainEqual(
      expect.stringMatching(
        /^authz-operation AuthorizationPolicy\/review\/review-allow-gateway spec\.rules\[0\]\.to: an ALLOW rule for cluster\.local\/ns\/kong\/sa\/kong-gateway must name its operations/,
      ),
    );
    // and, with no operation, Kong may now call review's operator endpoints too
    expect(findings).toContainEqual(
      expect.stringMatching(/^gateway-operator-path .*lets the gateway call GET \/openapi\.json of review/),
    );
  });

  test('rejects a peer rule whose operation has methods but no paths', () => {
    const objects = edit('AuthorizationPolicy', 'payment-allow-callers', 'payment', (o) => {
      o.spec.rules[0].to = [{ operation: { methods: ['POST'] } }];
    });
    expect(found(objects)).toEqual([
      expect.stringMatching(
        /^authz-operation AuthorizationPolicy\/payment\/payment-allow-callers spec\.rules\[0\]\.to: an ALLOW rule for cluster\.local\/ns\/order\/sa\/order must name its operations/,
      ),
    ]);
  });

  test('rejects an operator path the gateway may call, and says when an HTTPRoute also sends it there', () => {
    let objects = edit('AuthorizationPolicy', 'order-allow-gateway', 'order', (o) => {
      o.spec.rules[0].to.push({ operation: { methods: ['POST'], paths: ['/sagas/*'] } });
    });
    expect(found(objects)).toEqual([
      expect.stringMatching(
        /^gateway-operator-path AuthorizationPolicy\/order\/order-allow-gateway spec\.rules\[0\]\.to\[2\]: lets the gateway call POST \/sagas\/\{id\}\/retry of order, which is not a public operation it routes; allow only/,
      ),
    ]);
    // a route that rewrites /api/orders to / makes it reachable from the internet
    objects = objects.map((o) => {
      if (o.kind !== 'HTTPRoute' || o.metadata.name !== 'order-api-orders') return o;
      const copy = structuredClone(o) as Editable;
      for (const r of copy.spec.rules) {
        for (const f of r.filters ?? []) f.urlRewrite.path.replacePrefixMatch = '/';
      }
      return copy as KubeObject;
    });
    expect(found(objects)).toEqual([
      expect.stringMatching(
        /POST \/sagas\/\{id\}\/retry of order, which is not a public operation it routes, and HTTPRoute kong\/order-api-orders sends it there: it is reachable from the internet/,
      ),
    ]);
  });

  test("rejects the gateway on a participant operation (order's, not Kong's)", () => {
    const objects = edit('AuthorizationPolicy', 'inventory-allow-gateway', 'inventory', (o) => {
      o.spec.rules[0].to[0].operation.paths.push('/reservations*');
      o.spec.rules[0].to[0].operation.methods.push('POST');
    });
    const findings = found(objects);
    expect(findings.map((f) => /call (\S+ \S+)/.exec(f)?.[1]).sort()).toEqual([
      'GET /reservations/{orderId}',
      'POST /reservations',
      'POST /reservations/{orderId}/commit',
      'POST /reservations/{orderId}/release',
    ]);
  });

  test('matches Istio path syntax: exact, prefix, suffix and URI templates', () => {
    expect(istioPathMatches('/stock/{*}', '/stock/A-1')).toBe(true);
    expect(istioPathMatches('/stock/{*}', '/stock/A-1/x')).toBe(false);
    expect(istioPathMatches('/stock/{**}', '/stock/A-1/x')).toBe(true);
    expect(istioPathMatches('/sagas*', '/sagas/1/retry')).toBe(true);
    expect(istioPathMatches('*/retry', '/sagas/1/retry')).toBe(true);
    expect(istioPathMatches('/orders', '/orders/1')).toBe(false);
  });
});
