import { fileURLToPath } from 'node:url';
import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { NetworkPolicyChart, type KubeObject } from '../../charts/index.js';
import { loadPlatform } from '../../model/index.js';
import { at, find, referenceModel, synth } from './helpers.js';

const model = referenceModel();
const objects = synth(
  new NetworkPolicyChart(Testing.app(), 'network', NetworkPolicyChart.propsFromModel(model)),
);

interface Peer {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port: number; protocol: string }[];
}

const peerName = (p: Peer) =>
  p.ipBlock?.cidr ??
  `${p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']}/${Object.values(p.podSelector?.matchLabels ?? {}).join(',') || '*'}`;
/** `peer:port/protocol` for every rule of one direction of a policy. */
function edges(policy: KubeObject, direction: 'ingress' | 'egress'): string[] {
  const rules = at<Rule[]>(policy, 'spec', direction) ?? [];
  return rules
    .flatMap((r) =>
      (r[direction === 'ingress' ? 'from' : 'to'] ?? []).flatMap((p) =>
        (r.ports ?? []).map((port) => `${peerName(p)}:${port.port}/${port.protocol}`),
      ),
    )
    .sort();
}

describe('NetworkPolicyChart', () => {
  test('denies all ingress and egress in every service namespace', () => {
    for (const svc of model.services) {
      expect(at(find(objects, 'NetworkPolicy', 'default-deny', svc.name), 'spec')).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [],
      });
    }
  });

  test('keeps DNS, istiod (xDS) and tracing open for every service, so sidecars still get their config', () => {
    for (const svc of model.services) {
      const egress = edges(find(objects, 'NetworkPolicy', 'allow-platform-egress', svc.name), 'egress');
      expect(egress).toEqual(
        expect.arrayContaining([
          'kube-system/kube-dns:53/UDP',
          'kube-system/kube-dns:53/TCP',
          'istio-system/istiod:15012/TCP',
          'observability/*:4317/TCP',
          'observability/*:4318/TCP',
          '169.254.170.23/32:80/TCP',
        ]),
      );
    }
  });

  test('opens the data stores a service has, in the VPC, and no other', () => {
    const vpc = (svc: string) =>
      edges(find(objects, 'NetworkPolicy', 'allow-platform-egress', svc), 'egress').filter((e) =>
        e.startsWith('10.0.0.0/16:'),
      );
    expect(vpc('inventory')).toEqual(['10.0.0.0/16:443/TCP', '10.0.0.0/16:5432/TCP', '10.0.0.0/16:6380/TCP']);
    expect(vpc('payment')).toEqual(['10.0.0.0/16:443/TCP', '10.0.0.0/16:5432/TCP']);
    expect(vpc('notification')).toEqual(['10.0.0.0/16:443/TCP', '10.0.0.0/16:6380/TCP']);
  });

  test('admits exactly the declared edges: Kong to routed services, callers to callees, on the pod port', () => {
    const ingress = (svc: string) =>
      edges(find(objects, 'NetworkPolicy', 'allow-ingress', svc), 'ingress').filter(
        (e) => !e.endsWith(':15020/TCP'),
      );
    expect(ingress('inventory')).toEqual(['kong/kong:8080/TCP', 'order/order:8080/TCP']);
    expect(ingress('payment')).toEqual(['order/order:8080/TCP']);
    expect(ingress('review')).toEqual(['kong/kong:8080/TCP']);
    expect(ingress('catalog')).toEqual(['order/order:8080/TCP']);
    expect(edges(find(objects, 'NetworkPolicy', 'allow-calls', 'order'), 'egress')).toEqual([
      'catalog/catalog:8080/TCP',
      'inventory/inventory:8080/TCP',
      'payment/payment:8080/TCP',
    ]);
    expect(objects.some((o) => o.metadata.name === 'allow-calls' && o.metadata.namespace === 'payment')).toBe(
      false,
    );
    // Prometheus scrapes Istio's merged metrics on the agent port, from its namespace only
    expect(edges(find(objects, 'NetworkPolicy', 'allow-ingress', 'payment'), 'ingress')).toContain(
      'monitoring/*:15020/TCP',
    );
  });

  test("a service that calls the legacy monolith may reach the monolith's port, which is outside the cluster", () => {
    const list = synth(
      new NetworkPolicyChart(Testing.app(), 'network', {
        services: [{ name: 'history', calls: ['monolith', 'order'] }, { name: 'order' }],
        monolithPort: 8443,
      }),
    );
    expect(edges(find(list, 'NetworkPolicy', 'allow-calls', 'history'), 'egress')).toEqual([
      '0.0.0.0/0:8443/TCP',
      'order/order:8080/TCP',
    ]);
  });

  test("lets the shadow comparer take Kong's mirror and ask the shadowed services and the monolith", () => {
    const shadowed = loadPlatform(
      fileURLToPath(new URL('../fixtures/shadow/platform.yaml', import.meta.url)),
    );
    const props = NetworkPolicyChart.propsFromModel(shadowed);
    const list = synth(new NetworkPolicyChart(Testing.app(), 'n', props));
    const services = props.shadowComparer!.services;
    expect(services.length).toBeGreaterThan(0);
    find(list, 'NetworkPolicy', 'default-deny', 'shadow-compare');
    expect(edges(find(list, 'NetworkPolicy', 'allow-ingress', 'shadow-compare'), 'ingress')).toContain(
      'kong/kong:8080/TCP',
    );
    expect(edges(find(list, 'NetworkPolicy', 'allow-calls', 'shadow-compare'), 'egress')).toEqual(
      [
        ...services.map((s) => `${s}/${s}:8080/TCP`),
        `0.0.0.0/0:${shadowed.spec.legacy.monolith.port}/TCP`,
      ].sort(),
    );
    for (const s of services) {
      expect(edges(find(list, 'NetworkPolicy', 'allow-ingress', s), 'ingress')).toContain(
        'shadow-compare/shadow-compare:8080/TCP',
      );
    }
    expect(NetworkPolicyChart.propsFromModel(model).shadowComparer).toBeUndefined();
  });
});
