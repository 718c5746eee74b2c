import type { MeshOperation, MeshPlan } from '../../model/mesh-plan.js';
import { naming } from '../../model/naming.js';
import { underPrefix } from '../../model/route-contracts.js';
import type { GateFinding } from '../../synth/synth-step.js';
import { objectId, type KubeObject } from '../apply-order.js';
import { AuthorizationPolicy } from '../crds/istio-security.js';
import { fieldPath, finding } from './findings.js';

interface Operation {
  readonly methods?: string[];
  readonly notMethods?: string[];
  readonly paths?: string[];
  readonly notPaths?: string[];
  readonly ports?: string[];
}
interface Rule {
  readonly from?: { source?: { principals?: string[]; namespaces?: string[] } }[];
  readonly to?: { operation?: Operation }[];
}

/** Kong's SPIFFE principal, as the mesh policies name it. */
const GATEWAY_PRINCIPAL = AuthorizationPolicy.principal(
  naming.gatewayNamespace,
  naming.gatewayServiceAccount,
);

/**
 * True when an Istio `paths` entry matches `path`: exact, `*` alone, a `prefix*`, a `*suffix`, or
 * a URI template (`{*}` one segment, `{**}` the rest).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation
 */
export function istioPathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  if (pattern.includes('{*}') || pattern.includes('{**}')) {
    const body = pattern
      .split(/(\{\*\*\}|\{\*\})/)
      .map((p) => (p === '{**}' ? '.*' : p === '{*}' ? '[^/]+' : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${body}$`).test(path);
  }
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return path.endsWith(pattern.slice(1));
  return pattern === path;
}

/** A concrete request path for an OpenAPI template: each `{param}` becomes one sample segment. */
const samplePath = (template: string) => template.replace(/\{[^}]+\}/g, 'aio-sample');

/** True when an AuthorizationPolicy operation (absent: any) admits `op`. */
function admits(operation: Operation | undefined, op: MeshOperation): boolean {
  if (!operation) return true;
  const path = samplePath(op.path);
  if (operation.methods && !operation.methods.includes(op.method)) return false;
  if (operation.notMethods?.includes(op.method)) return false;
  if (operation.paths && !operation.paths.some((p) => istioPathMatches(p, path))) return false;
  if (operation.notPaths?.some((p) => istioPathMatches(p, path))) return false;
  return true;
}

/**
 * The mesh gate over synthesized objects:
 *
 * - `authz-operation`: every rule of an ALLOW AuthorizationPolicy whose source is Kong or a
 *   platform service (by principal or namespace; `*` too in a service's namespace) also names its operations (`to[].operation` with methods and paths): a rule
 *   without them grants the whole service;
 * - `gateway-operator-path`: no ALLOW policy lets Kong's principal call an operation of a service
 *   that the plan does not give Kong (operator and participant endpoints), and, with the HTTPRoutes
 *   in Kong's namespace, none of those is both routed and allowed (reachable from the internet).
 *
 * @see https://istio.io/latest/docs/ops/best-practices/security/#use-allow-with-positive-matching-and-deny-with-negative-match
 */
export function checkMeshPolicies(objects: readonly KubeObject[], plan: MeshPlan): GateFinding[] {
  const findings: GateFinding[] = [];
  const fail = (rule: string, o: KubeObject, p: (string | number)[], message: string) =>
    findings.push(finding('k8s-policy', rule, `${objectId(o)} ${fieldPath(p)}`, message));
  const gatewayAllowed = new Map<string, { o: KubeObject; rule: number; to: number; op: MeshOperation }[]>();
  const serviceNamespaces = new Set(plan.services.map((s) => naming.namespace(s.service)));
  // the platform's own identities: Kong and every service; `*` counts where it reaches a service
  const platformPrincipals = new Set([
    GATEWAY_PRINCIPAL,
    ...plan.services.map((s) =>
      AuthorizationPolicy.principal(naming.namespace(s.service), naming.serviceAccount(s.service)),
    ),
  ]);
  const platformNamespaces = new Set([naming.gatewayNamespace, ...serviceNamespaces]);
  for (const o of objects) {
    if (o.kind !== 'AuthorizationPolicy' || !o.apiVersion.startsWith('security.istio.io/')) continue;
    const spec = (o.spec ?? {}) as { action?: string; rules?: Rule[] };
    if ((spec.action ?? 'ALLOW') !== 'ALLOW') continue;
    (spec.rules ?? []).forEach((rule, i) => {
      const wildcard = serviceNamespaces.has(o.metadata.namespace ?? '');
      const sources = (rule.from ?? []).flatMap((f) => [
        ...(f.source?.principals ?? []).filter((p) => platformPrincipals.has(p) || (wildcard && p === '*')),
        ...(f.source?.namespaces ?? [])
          .filter((n) => platformNamespaces.has(n) || (wildcard && n === '*'))
          .map((n) => `namespace ${n}`),
      ]);
      if (sources.length === 0) return;
      const named = (rule.to ?? []).filter((t) => t.operation?.methods?.length && t.operation.paths?.length);
      if (named.length === 0 || named.length !== (rule.to ?? []).length) {
        fail(
          'authz-operation',
          o,
          ['spec', 'rules', i, 'to'],
          `an ALLOW rule for ${sources.join(', ')} must name its operations (to[].operation with methods and paths from the route contracts), got ${JSON.stringify(rule.to ?? [])}`,
        );
      }
      const gateway = [GATEWAY_PRINCIPAL, '*', `namespace ${naming.gatewayNamespace}`, 'namespace *'];
      if (!sources.some((x) => gateway.includes(x))) return;
      const svc = plan.services.find((s) => naming.namespace(s.service) === o.metadata.namespace);
      if (!svc) return;
      const forbidden = [...svc.operator, ...Object.values(svc.callers).flat()].filter(
        (f) => !svc.gateway.some((g) => g.method === f.method && g.path === f.path),
      );
      const tos = rule.to?.length ? rule.to : [{}];
      tos.forEach((t, j) => {
        for (const op of forbidden.filter((f) => admits(t.operation, f))) {
          const list = gatewayAllowed.get(svc.service) ?? [];
          list.push({ o, rule: i, to: j, op });
          gatewayAllowed.set(svc.service, list);
        }
      });
    });
  }
  for (const [service, allowed] of gatewayAllowed) {
    for (const { o, rule, to, op } of allowed) {
      const route = routing(objects, service, op);
      fail(
        'gateway-operator-path',
        o,
        ['spec', 'rules', rule, 'to', to],
        `lets the gateway call ${op.method} ${op.path} of ${service}, which is not a public operation it routes${route ? `, and HTTPRoute ${route} sends it there: it is reachable from the internet` : ''}; allow only the public operations`,
      );
    }
  }
  return findings;
}

interface RouteRule {
  readonly matches?: { path?: { type?: string; value?: string }; method?: string }[];
  readonly filters?: { type: string; urlRewrite?: { path?: { replacePrefixMatch?: string } } }[];
  readonly backendRefs?: { name: string; namespace?: string }[];
}

/** The name of an HTTPRoute whose rule sends `op` (as the backend receives it) to `service`, if any. */
function routing(objects: readonly KubeObject[], service: string, op: MeshOperation): string | undefined {
  const path = samplePath(op.path);
  for (const o of objects) {
    if (o.kind !== 'HTTPRoute') continue;
    const rules = ((o.spec as { rules?: RouteRule[] } | undefined)?.rules ?? []) as RouteRule[];
    for (const r of rules) {
      const toService = (r.backendRefs ?? []).some(
        (b) => b.name === service && (b.namespace ?? o.metadata.namespace) === naming.namespace(service),
      );
      if (!toService) continue;
      const rewrite = r.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path?.replacePrefixMatch;
      for (const m of r.matches ?? [{}]) {
        if (m.method && m.method !== op.method) continue;
        const prefix = m.path?.type === 'PathPrefix' || !m.path ? (m.path?.value ?? '/') : undefined;
        if (prefix === undefined) continue;
        if (underPrefix(path, rewrite ?? prefix) !== undefined)
          return `${o.metadata.namespace}/${o.metadata.name}`;
      }
    }
  }
  return undefined;
}
