import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { platformManifests, type KubeObject } from '../../charts/index.js';
import { loadPlatform, parsePlatform, type PlatformModel } from '../../model/index.js';
import { at, find } from './helpers.js';

/**
 * `calls: [monolith]` followed through the synthesized objects of one environment, the way a
 * request goes: the caller's MONOLITH_URL, what its host names in the cluster (the ExternalName
 * Service, the ServiceEntry Istio routes it by), the NetworkPolicies on the caller's pods, and the
 * mesh's TLS rule for the monolith. A manifest that is valid but would not reach the monolith fails
 * here. The fixture puts the monolith on 8081, not the services' 8080, so that a port taken from
 * the wrong place shows.
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/monolith-calls/platform.yaml', import.meta.url));
const MONOLITH_HOST = 'monolith.internal.allinone.example';

/** The fixture as written (HTTP on 8081), or with the monolith on HTTPS 8443. */
function fixture(protocol: 'http' | 'https'): PlatformModel {
  if (protocol === 'http') return loadPlatform(FIXTURE);
  const text = readFileSync(FIXTURE, 'utf8').replace(
    '\n    port: 8081 ',
    '\n    protocol: https\n    port: 8443 ',
  );
  if (!text.includes('protocol: https')) throw new Error('the fixture no longer has the monolith port line');
  return parsePlatform(text, { file: FIXTURE });
}

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string; except?: string[] };
}
interface EgressRule {
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string }[];
}
type EnvVar = { name: string; value?: string };

const podTemplate = (objects: KubeObject[], service: string) =>
  at<{ metadata: { labels: Record<string, string> }; spec: { containers: { env?: EnvVar[] }[] } }>(
    find(objects, 'Deployment', service, service),
    'spec',
    'template',
  );
const envOf = (objects: KubeObject[], service: string) =>
  Object.fromEntries(
    (podTemplate(objects, service).spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]),
  );

/** The NetworkPolicies that select `service`'s pods (by the labels its Deployment gives them). */
function policiesOn(objects: KubeObject[], service: string): KubeObject[] {
  const labels = podTemplate(objects, service).metadata.labels;
  return objects.filter((o) => {
    if (o.kind !== 'NetworkPolicy' || o.metadata.namespace !== service) return false;
    const selector = at<Record<string, string> | undefined>(o, 'spec', 'podSelector', 'matchLabels') ?? {};
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
  });
}

/**
 * The egress rules of those policies that admit TCP `port` at an address nobody knows at synth
 * time (whatever the monolith's DNS name resolves to): no `to` at all, or a `0.0.0.0/0` without
 * exceptions. NetworkPolicies are allow-lists, OR-ed together, so one such rule is enough.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
 */
function egressToAnyAddress(objects: KubeObject[], service: string, port: number): EgressRule[] {
  return policiesOn(objects, service).flatMap((p) =>
    (at<EgressRule[] | undefined>(p, 'spec', 'egress') ?? []).filter(
      (r) =>
        (!r.ports?.length ||
          r.ports.some((x) => (x.protocol ?? 'TCP') === 'TCP' && Number(x.port) === port)) &&
        (!r.to?.length ||
          r.to.some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0' && !peer.ipBlock.except?.length)),
    ),
  );
}

/** `<name>.<namespace>.svc.cluster.local` → the Service it names, or undefined for another host. */
function clusterService(objects: KubeObject[], host: string): KubeObject | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(host);
  return m ? find(objects, 'Service', m[1]!, m[2]!) : undefined;
}

/** The ServiceEntries whose `hosts` include `host`. */
const serviceEntriesFor = (objects: KubeObject[], host: string) =>
  objects.filter((o) => o.kind === 'ServiceEntry' && at<string[]>(o, 'spec', 'hosts').includes(host));

/** Does an Istio host (exact, or a `*.` wildcard) cover `host`? */
const covers = (pattern: string, host: string) =>
  pattern === '*' || pattern === host || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));

describe.each([
  { protocol: 'http' as const, port: 8081, entryProtocol: 'HTTP' },
  { protocol: 'https' as const, port: 8443, entryProtocol: 'TLS' },
])('calls: [monolith] with the monolith on $protocol', ({ protocol, port, entryProtocol }) => {
  const objects = platformManifests(fixture(protocol), 'dev', { tracing: false });
  const url = new URL(envOf(objects, 'history').MONOLITH_URL!);
  /** The host Istio routes the call by: the ExternalName's target for an alias, else the URL's. */
  const routedHost = () => {
    const svc = clusterService(objects, url.hostname);
    return svc ? at<string>(svc, 'spec', 'externalName') : url.hostname;
  };

  test("MONOLITH_URL's host and port are the monolith's: legacy.monolith's host, port and protocol", () => {
    expect(url.protocol).toBe(`${protocol}:`);
    expect(Number(url.port)).toBe(port);
    const svc = clusterService(objects, url.hostname);
    if (protocol === 'http') {
      // the gateway's ExternalName Service, which Istio 1.21+ treats as an alias of its target
      expect(svc && at(svc, 'spec')).toMatchObject({ type: 'ExternalName', externalName: MONOLITH_HOST });
      expect(at<{ port: number }[]>(svc, 'spec', 'ports').map((p) => p.port)).toContain(port);
    } else {
      // TLS from the client: the host its certificate names, also the SNI Istio matches
      expect(url.hostname).toBe(MONOLITH_HOST);
      expect(svc).toBeUndefined();
    }
    expect(routedHost()).toBe(MONOLITH_HOST);
  });

  test('the mesh knows that host on that port: a MESH_EXTERNAL ServiceEntry, with the protocol the client speaks', () => {
    const entries = serviceEntriesFor(objects, routedHost());
    expect(entries).toHaveLength(1);
    const spec = at<Record<string, unknown>>(entries[0], 'spec');
    expect(spec).toMatchObject({ location: 'MESH_EXTERNAL', resolution: 'DNS' });
    expect(spec.ports).toEqual([expect.objectContaining({ number: port, protocol: entryProtocol })]);
    // visible from the caller's namespace (absent exportTo: every namespace)
    const exportTo = spec.exportTo as string[] | undefined;
    expect(exportTo === undefined || exportTo.includes('*') || exportTo.includes('history')).toBe(true);
  });

  test("the mesh lets the call leave the caller's sidecar without Istio's mTLS, which the monolith cannot speak", () => {
    const host = routedHost();
    const rules = objects.filter(
      (o) =>
        o.kind === 'DestinationRule' &&
        (covers(at(o, 'spec', 'host'), host) || covers(at(o, 'spec', 'host'), url.hostname)),
    );
    expect(rules.map((o) => [at(o, 'spec', 'host'), at(o, 'spec', 'trafficPolicy', 'tls', 'mode')])).toEqual([
      [MONOLITH_HOST, 'DISABLE'],
    ]);
    // a Sidecar resource could narrow the caller's egress to a host list; none may leave the monolith out
    for (const sidecar of objects.filter((o) => o.kind === 'Sidecar')) {
      const hosts = (at<{ hosts: string[] }[] | undefined>(sidecar, 'spec', 'egress') ?? []).flatMap(
        (e) => e.hosts,
      );
      expect(hosts.some((h) => covers(h.split('/')[1]!, host))).toBe(true);
    }
    // AuthorizationPolicies guard inbound traffic of the workloads they select; the monolith has
    // none in the cluster, so nothing of ours may claim to select it
    expect(
      objects.filter((o) => o.kind === 'AuthorizationPolicy' && o.metadata.namespace === 'legacy'),
    ).toEqual([]);
  });

  test("the caller's NetworkPolicies admit the monolith's port at the address its DNS name has, and only that port", () => {
    expect(egressToAnyAddress(objects, 'history', port)).toEqual([
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port }] },
    ]);
    // the caller can still resolve the name, through kube-dns
    expect(egressToAnyAddress(objects, 'history', 53)).toEqual([]);
    const dns = policiesOn(objects, 'history').flatMap(
      (p) => at<EgressRule[] | undefined>(p, 'spec', 'egress') ?? [],
    );
    expect(
      dns.some(
        (r) =>
          r.ports?.some((x) => x.port === 53 && x.protocol === 'UDP') &&
          r.to?.some((peer) => peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns'),
      ),
    ).toBe(true);
    // the services' own port stays closed to the world: only the monolith's port is open
    expect(egressToAnyAddress(objects, 'history', 8080)).toEqual([]);
  });

  test('a service without calls: [monolith] gets none of it: no MONOLITH_URL, no egress to the monolith', () => {
    expect(envOf(objects, 'order')).not.toHaveProperty('MONOLITH_URL');
    expect(policiesOn(objects, 'order').length).toBeGreaterThan(0);
    expect(egressToAnyAddress(objects, 'order', port)).toEqual([]);
    expect(
      objects.filter(
        (o) =>
          o.kind === 'NetworkPolicy' &&
          o.metadata.namespace === 'order' &&
          JSON.stringify(at(o, 'spec', 'egress') ?? []).includes('0.0.0.0/0'),
      ),
    ).toEqual([]);
  });
});
