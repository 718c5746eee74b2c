import { Chart, Testing } from 'cdk8s';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as crds from '../../charts/crds/index.js';
import {
  HttpRoute,
  KongPlugin,
  RequestAuthentication,
  validateSchemas,
  VirtualService,
} from '../../charts/index.js';
import { generate, GENERATED } from '../../charts/crds/generate-types.mjs';
import { synth } from './helpers.js';

const kinds = Object.entries(crds).flatMap(([name, v]) => {
  const gvk = (v as { GVK?: crds.GroupVersionKind }).GVK;
  return gvk ? [[name, gvk] as const] : [];
});

describe('CRD types', () => {
  test('every generated file equals a fresh run of npm run generate:crd-types', async () => {
    expect(GENERATED.length).toBeGreaterThan(0);
    for (const entry of GENERATED) {
      const committed = readFileSync(
        fileURLToPath(new URL(`../../charts/crds/${entry.out}`, import.meta.url)),
        'utf8',
      );
      expect(committed, `charts/crds/${entry.out} is stale: run npm run generate:crd-types`).toBe(
        await generate(entry),
      );
    }
  });

  test('every kind in charts/crds is one the schema gate validates with an official schema', async () => {
    expect(kinds.map(([name]) => name).sort()).toEqual([
      'AuthorizationPolicy',
      'ClusterSecretStore',
      'DestinationRule',
      'ExternalSecret',
      'Gateway',
      'GatewayClass',
      'HttpRoute',
      'KongClusterPlugin',
      'KongPlugin',
      'PeerAuthentication',
      'ReferenceGrant',
      'RequestAuthentication',
      'SecretStore',
      'ServiceEntry',
      'Telemetry',
      'VirtualService',
    ]);
    const probes = kinds.map(([, gvk]) => ({ ...gvk, metadata: { name: 'probe', namespace: 'probe' } }));
    const unknown = (await validateSchemas(probes)).filter((f) => f.rule === 'unknown-kind');
    expect(unknown).toEqual([]);
  });

  test('fields the charts do not use yet are typed by the schema package, and the gate accepts them', async () => {
    const chart = new Chart(Testing.app(), 'types');
    new VirtualService(chart, 'Vs', {
      metadata: { name: 'review', namespace: 'review' },
      spec: {
        hosts: ['review'],
        http: [
          {
            route: [{ destination: { host: 'review' } }],
            mirror: { host: 'review-shadow' },
            mirrorPercentage: { value: 5 },
            fault: { abort: { httpStatus: 503, percentage: { value: 1 } } },
          },
        ],
      },
    });
    new HttpRoute(chart, 'Route', {
      metadata: { name: 'orders', namespace: 'kong' },
      spec: {
        parentRefs: [{ name: 'kong' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api/orders' } }],
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
              },
            ],
            backendRefs: [{ name: 'order', port: 80, weight: 100 }],
          },
        ],
      },
    });
    new RequestAuthentication(chart, 'Jwt', {
      metadata: { name: 'jwt', namespace: 'order' },
      spec: { jwtRules: [{ issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks' }] },
    });
    new KongPlugin(chart, 'Plugin', {
      metadata: { name: 'rate', namespace: 'kong' },
      plugin: 'rate-limiting',
      config: { minute: 10 },
    });
    new VirtualService(chart, 'Wrong', {
      metadata: { name: 'wrong', namespace: 'review' },
      // @ts-expect-error the schema package types `timeout` as a duration string
      spec: { hosts: ['review'], http: [{ timeout: 2 }] },
    });
    const objects = synth(chart);
    const findings = await validateSchemas(objects);
    expect(findings.map((f) => f.path)).toEqual(['VirtualService/review/wrong spec.http[0].timeout']);
  });
});
