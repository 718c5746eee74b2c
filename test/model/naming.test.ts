import { describe, expect, test } from 'vitest';
import { naming } from '../../model/naming.js';

describe('naming', () => {
  test('builds in-cluster hosts from the namespace naming gives each service', () => {
    expect(naming.serviceHost('order')).toBe(naming.clusterHost('order', naming.namespace('order')));
    expect(naming.clusterHost('order', 'shop')).toBe('order.shop.svc.cluster.local');
  });

  test('gives the Jaeger collector one host and one port per protocol, for Istio, the services and Kong', () => {
    expect(naming.jaegerCollectorHost('tracing')).toBe('jaeger-collector.tracing.svc.cluster.local');
    expect(naming.otlpGrpcEndpoint('tracing')).toBe(
      `http://${naming.jaegerCollectorHost('tracing')}:${naming.otlpGrpcPort}`,
    );
    expect(naming.otlpHttpEndpoint(naming.defaultTracingNamespace)).toBe(
      'http://jaeger-collector.observability.svc.cluster.local:4318',
    );
  });
});
