import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { platformManifests, TracingChart } from '../../charts/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const envVars = (o: unknown) =>
  at<{ name: string; value?: string; valueFrom?: unknown }[]>(
    o,
    'spec',
    'template',
    'spec',
    'containers',
    0,
    'env',
  );

describe('TracingChart', () => {
  test('dev: one all-in-one Jaeger on badger (emptyDir unless persistent), behind jaeger-collector and jaeger-query', () => {
    const objects = synth(new TracingChart(Testing.app(), 't', TracingChart.propsFromModel(model, 'dev')));
    const jaeger = find(objects, 'Deployment', 'jaeger', 'observability');
    expect(envVars(jaeger)).toEqual(expect.arrayContaining([{ name: 'SPAN_STORAGE_TYPE', value: 'badger' }]));
    expect(at(jaeger, 'spec', 'strategy', 'type')).toBe('Recreate');
    expect(at(jaeger, 'spec', 'template', 'spec', 'volumes')).toContainEqual({
      name: 'badger',
      emptyDir: { sizeLimit: '10240Mi' },
    });
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    const persistent = synth(new TracingChart(Testing.app(), 'p', { badgerPersistentVolume: true }));
    find(persistent, 'PersistentVolumeClaim', 'jaeger-badger', 'observability');
    expect(at(find(objects, 'Service', 'jaeger-collector', 'observability'), 'spec', 'ports')).toEqual([
      { name: 'otlp-grpc', port: 4317, appProtocol: 'grpc', targetPort: 4317 },
      { name: 'otlp-http', port: 4318, appProtocol: 'http', targetPort: 4318 },
    ]);
  });

  test('prod: collector and query apart, on OpenSearch with credentials from Secrets Manager', () => {
    const objects = synth(new TracingChart(Testing.app(), 't', TracingChart.propsFromModel(model, 'prod')));
    const collector = find(objects, 'Deployment', 'jaeger-collector', 'observability');
    find(objects, 'Deployment', 'jaeger-query', 'observability');
    expect(at(collector, 'spec', 'replicas')).toBe(2);
    expect(envVars(collector)).toEqual(
      expect.arrayContaining([
        { name: 'SPAN_STORAGE_TYPE', value: 'opensearch' },
        { name: 'ES_PASSWORD', valueFrom: { secretKeyRef: { name: 'jaeger-opensearch', key: 'password' } } },
      ]),
    );
    expect(
      at(find(objects, 'ExternalSecret', 'jaeger-opensearch', 'observability'), 'spec', 'dataFrom'),
    ).toEqual([{ extract: { key: 'allinone/prod/tracing/opensearch' } }]);
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
  });

  test('memory storage keeps no volume', () => {
    const objects = synth(new TracingChart(Testing.app(), 't', { storage: 'memory' }));
    expect(envVars(find(objects, 'Deployment', 'jaeger'))).toEqual(
      expect.arrayContaining([{ name: 'SPAN_STORAGE_TYPE', value: 'memory' }]),
    );
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
  });

  test('throws when OpenSearch has no credentials secret', () => {
    expect(() => new TracingChart(Testing.app(), 't', { storage: 'opensearch' })).toThrow(
      "'opensearchSecretName' is required when 'storage' is 'opensearch'",
    );
  });

  test('can be left out of the platform where another layer installs Jaeger', () => {
    const objects = platformManifests(model, 'dev', { tracing: false });
    expect(
      objects.filter((o) => o.metadata.namespace === 'observability' || o.metadata.name === 'observability'),
    ).toEqual([]);
    expect(platformManifests(model, 'dev').some((o) => o.metadata.name === 'jaeger-collector')).toBe(true);
  });
});
