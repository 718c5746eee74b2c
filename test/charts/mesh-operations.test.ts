import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { MeshChart } from '../../charts/index.js';
import { contractCalls, contractOperations, istioPath, underPrefix } from '../../model/index.js';
import { find, grants, referenceModel, synth } from './helpers.js';

/**
 * The synthesized AuthorizationPolicies against the route contracts, read here on their own: Kong
 * gets exactly the public operations under the path each route sends, and order exactly the
 * participant operations its contract declares (services/order/test/saga-calls.test.ts checks that
 * those are the requests the saga really sends).
 */
const model = referenceModel();
const objects = synth(new MeshChart(Testing.app(), 'mesh', MeshChart.propsFromModel(model)));
const contract = (service: string): unknown =>
  JSON.parse(readFileSync(resolve(dirname(model.file), model.service(service).contract!), 'utf8'));

describe('mesh policies from the route contracts', () => {
  test('Kong may call exactly the public operations each routed service serves under its servicePath', () => {
    for (const svc of model.routedServices) {
      const prefixes = svc.routes.map((r) => r.servicePath ?? r.path);
      const expected = contractOperations(contract(svc.name))
        .filter((o) => o.public && prefixes.some((p) => underPrefix(o.path, p) !== undefined))
        .map((o) => `${o.method} ${istioPath(o.path)}`)
        .sort();
      expect(expected.length, svc.name).toBeGreaterThan(0);
      expect(
        grants(find(objects, 'AuthorizationPolicy', `${svc.name}-allow-gateway`, svc.name)),
        svc.name,
      ).toEqual(expected);
    }
  });

  test("order may call exactly the participant operations it declares, and they exist in each callee's contract", () => {
    const declared = contractCalls(contract('order'));
    for (const callee of ['inventory', 'payment']) {
      const expected = declared
        .filter((c) => c.service === callee)
        .map((c) => `${c.method} ${istioPath(c.path)}`)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(grants(find(objects, 'AuthorizationPolicy', `${callee}-allow-callers`, callee))).toEqual(
        expected,
      );
      const calleeOps = contractOperations(contract(callee)).map((o) => `${o.method} ${istioPath(o.path)}`);
      expect(calleeOps).toEqual(expect.arrayContaining(expected));
    }
    // none of them is an operator endpoint or a read the saga does not make
    expect(
      grants(find(objects, 'AuthorizationPolicy', 'inventory-allow-callers', 'inventory')),
    ).not.toContain('GET /reservations/{*}');
  });

  test('the paths are Istio URI templates: {*} for each OpenAPI parameter', () => {
    expect(istioPath('/reservations/{orderId}/commit')).toBe('/reservations/{*}/commit');
    expect(istioPath('/orders')).toBe('/orders');
  });
});
