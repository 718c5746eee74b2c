import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { ServiceChart, TokenIssuer, type KubeObject } from '../../charts/index.js';
import { naming, PlatformModel } from '../../model/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

const IMAGE = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop/review:1.2.3';

function chart(props: Partial<ConstructorParameters<typeof ServiceChart>[2]> = {}): KubeObject[] {
  return synth(new ServiceChart(Testing.app(), 'svc', { name: 'review', image: IMAGE, ...props }));
}

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } };
const containerOf = (objects: KubeObject[], name = 'review') =>
  at<Record<string, unknown>>(find(objects, 'Deployment', name), 'spec', 'template', 'spec', 'containers', 0);
const envOf = (objects: KubeObject[], name = 'review') => at<EnvVar[]>(containerOf(objects, name), 'env');

describe('ServiceChart', () => {
  test('works from plain props: namespace with injection, service account, workload, HPA, PDB', () => {
    const objects = chart({ replicas: { min: 3, max: 9 } });
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'Deployment',
        'HorizontalPodAutoscaler',
        'Namespace',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    expect(at(find(objects, 'Namespace', 'review'), 'metadata', 'labels')).toMatchObject({
      'istio-injection': 'enabled',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'review', 'review');
    expect(at(hpa, 'spec')).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
    expect(at(find(objects, 'Deployment', 'review'), 'spec', 'template', 'spec', 'serviceAccountName')).toBe(
      'review',
    );
  });

  test('runs under the restricted Pod Security profile with probes, requests and limits', () => {
    const objects = chart();
    const pod = at<Record<string, unknown>>(
      find(objects, 'Deployment', 'review'),
      'spec',
      'template',
      'spec',
    );
    const c = containerOf(objects);
    expect(at(pod, 'securityContext')).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(at(c, 'securityContext')).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(at(c, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
    expect(at(c, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
    expect(at(c, 'resources')).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(at(pod, 'topologySpreadConstraints', 0, 'topologyKey')).toBe('topology.kubernetes.io/zone');
  });

  test('wires DATABASE_URL and REDIS_URL from ExternalSecrets, peers and OTEL without literal secrets', () => {
    const objects = chart({
      database: true,
      cache: true,
      databaseSecretName: 'shop/dev/review/database',
      cacheSecretName: 'shop/dev/review/redis',
      calls: ['user-profile'],
      otlpEndpoint: 'http://collector:4318',
    });
    const env = envOf(objects);
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.DATABASE_URL?.valueFrom?.secretKeyRef).toEqual({
      name: 'review-database',
      key: 'DATABASE_URL',
    });
    expect(byName.REDIS_URL?.valueFrom?.secretKeyRef).toEqual({ name: 'review-redis', key: 'REDIS_URL' });
    expect(byName.USER_PROFILE_URL?.value).toBe('http://user-profile.user-profile.svc.cluster.local');
    expect(byName.OTEL_SERVICE_NAME?.value).toBe('review');
    expect(byName.OTEL_EXPORTER_OTLP_ENDPOINT?.value).toBe('http://collector:4318');
    const db = find(objects, 'ExternalSecret', 'review-database', 'review');
    expect(at(db, 'spec', 'dataFrom')).toEqual([{ extract: { key: 'shop/dev/review/database' } }]);
    expect(at<string>(db, 'spec', 'target', 'template', 'data', 'DATABASE_URL')).toMatch(
      /^postgres:\/\/\{\{ \.username/,
    );
  });

  test("a call to the legacy monolith gets MONOLITH_URL: its ExternalName Service on legacy.monolith's port", () => {
    const byName = (objects: KubeObject[]) =>
      Object.fromEntries(envOf(objects).map((e) => [e.name, e.value]));
    expect(byName(chart({ calls: ['monolith'] })).MONOLITH_URL).toBe(
      'http://monolith.legacy.svc.cluster.local:8080',
    );
    expect(
      byName(chart({ calls: ['monolith'], monolithUrl: 'https://monolith.internal.allinone.example:8443' }))
        .MONOLITH_URL,
    ).toBe('https://monolith.internal.allinone.example:8443');
    expect(byName(chart({ calls: ['payment'] }))).not.toHaveProperty('MONOLITH_URL');
  });

  test('writes a named token issuer into AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URI', () => {
    const objects = chart({
      tokenIssuer: TokenIssuer.of({
        issuer: 'https://login.example/',
        audience: 'shop',
        jwksUri: 'https://login.example/keys',
      }),
    });
    const byName = Object.fromEntries(envOf(objects).map((e) => [e.name, e]));
    expect(byName.AUTH_ISSUER?.value).toBe('https://login.example/');
    expect(byName.AUTH_AUDIENCE?.value).toBe('shop');
    expect(byName.AUTH_JWKS_URI?.value).toBe('https://login.example/keys');
    expect(objects.some((o) => o.kind === 'ExternalSecret')).toBe(false);
  });

  test('reads a provisioned token issuer from its secret through an ExternalSecret, with no value in the manifest', () => {
    const objects = chart({ tokenIssuer: TokenIssuer.fromSecret('shop/prod/identity') });
    const byName = Object.fromEntries(envOf(objects).map((e) => [e.name, e]));
    for (const variable of ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URI']) {
      expect(byName[variable]?.value).toBeUndefined();
      expect(byName[variable]?.valueFrom?.secretKeyRef).toEqual({ name: 'review-identity', key: variable });
    }
    const identity = find(objects, 'ExternalSecret', 'review-identity', 'review');
    expect(at(identity, 'spec', 'dataFrom')).toEqual([{ extract: { key: 'shop/prod/identity' } }]);
    expect(at(identity, 'spec', 'target', 'template', 'data')).toEqual({
      AUTH_ISSUER: '{{ .issuer }}',
      AUTH_AUDIENCE: '{{ .audience }}',
      AUTH_JWKS_URI: '{{ .jwksUri }}',
    });
  });

  test("propsFromModel passes the issuer platform.yaml names, or the provisioned issuer's secret", () => {
    const model = referenceModel();
    const named = model.identity;
    if (named?.kind !== 'issuer') throw new Error('the reference platform names its issuer');
    expect(ServiceChart.propsFromModel(model, 'prod', 'order').tokenIssuer?.values).toEqual({
      issuer: named.issuer,
      audience: named.audience,
      jwksUri: named.jwksUri,
    });
    const cognito = new PlatformModel({ ...model.spec, identity: { provision: 'cognito' } }, model.file);
    const props = ServiceChart.propsFromModel(cognito, 'prod', 'order');
    expect(props.tokenIssuer?.values).toBeUndefined();
    expect(props.tokenIssuer?.secretName).toBe(naming.identitySecret('allinone', 'prod'));
  });

  test('propsFromModel uses the shared naming: image with imageTag, secrets, peers from calls', () => {
    const model = referenceModel();
    const props = ServiceChart.propsFromModel(model, 'prod', 'order');
    const prod = model.environment('prod');
    expect(props.image).toBe(naming.image('allinone', prod, 'order', model.service('order').imageTag));
    expect(props.databaseSecretName).toBe(naming.databaseSecret('allinone', 'prod', 'order'));
    expect(props.calls).toEqual(['inventory', 'payment', 'catalog']);
    const env = envOf(synth(new ServiceChart(Testing.app(), 'order', props)), 'order').map((e) => e.name);
    expect(env).toEqual(
      expect.arrayContaining(['INVENTORY_URL', 'PAYMENT_URL', 'DATABASE_URL', 'SAGA_DEADLINE_SECONDS']),
    );
    expect(env).not.toContain('REDIS_URL');
  });

  test("throws on an image tagged 'latest' or without a tag", () => {
    expect(() => chart({ image: 'repo/review:latest' })).toThrow(
      /'image' must have a pinned tag.*'repo\/review:latest'/,
    );
    expect(() => chart({ image: 'repo/review' })).toThrow(/pinned tag/);
  });

  test('throws when a database is wanted without its secret name', () => {
    expect(() => chart({ database: true })).toThrow(
      "'databaseSecretName' is required when 'database' is true",
    );
  });

  test('annotates its pods for Istio metrics merging: the agent scrapes /metrics on the app port', () => {
    const deployment = chart().find((o) => o.kind === 'Deployment')!;
    expect(at(deployment, 'spec', 'template', 'metadata', 'annotations')).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
  });

  test('emits its own mesh policy when asked (a service repo without the platform MeshChart)', () => {
    const tierPolicy = referenceModel().service('review').tierPolicy;
    const objects = chart({
      namespace: 'growth',
      mesh: {
        tierPolicy,
        callers: { order: [{ method: 'POST', path: '/reservations' }] },
        gatewayOperations: [{ method: 'GET', path: '/stock/{sku}' }],
      },
    });
    expect(at(find(objects, 'VirtualService', 'review', 'growth'), 'spec', 'hosts')).toEqual([
      'review.growth.svc.cluster.local',
    ]);
    expect(
      at(
        find(objects, 'AuthorizationPolicy', 'review-allow-callers', 'growth'),
        'spec',
        'rules',
        0,
        'from',
        0,
        'source',
        'principals',
      ),
    ).toEqual(['cluster.local/ns/order/sa/order']);
    find(objects, 'AuthorizationPolicy', 'default-deny', 'growth');
    find(objects, 'AuthorizationPolicy', 'review-allow-gateway', 'growth');
    expect(chart().some((o) => o.kind === 'VirtualService')).toBe(false);
  });
});
