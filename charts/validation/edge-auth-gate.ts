import type { PlatformModel } from '../../model/platform-model.js';
import type { GateFinding } from '../../synth/synth-step.js';
import { objectId, type KubeObject } from '../apply-order.js';
import { CLAIMS_PLUGIN_NAME, TOKEN_PLUGIN_NAME } from '../edge-token.js';
import { routeName } from '../gateway-chart.js';
import { finding } from './findings.js';

/** The plugin each part of the token check must be, by KongPlugin name. */
const TOKEN_CHECK: Readonly<Record<string, string>> = {
  [TOKEN_PLUGIN_NAME]: 'jwt',
  [CLAIMS_PLUGIN_NAME]: 'post-function',
};

/**
 * The edge-auth gate: every route of the platform has an auth level, and every `auth: customer`
 * route's HTTPRoute runs the whole token check (`konghq.com/plugins` names the `jwt` plugin and the
 * claims check, and both KongPlugins exist in the route's namespace with those plugins). Findings
 * name the platform.yaml field or the HTTPRoute.
 *
 * The other two rules of the edge live in the mesh gate: ALLOW rules without `to.operation`
 * (`authz-operation`) and operator operations Kong could reach (`gateway-operator-path`).
 */
export function checkEdgeAuth(objects: readonly KubeObject[], model: PlatformModel): GateFinding[] {
  const findings: GateFinding[] = [];
  for (const [service, svc] of Object.entries(model.spec.services)) {
    svc.routes.forEach((r, i) => {
      if (r.auth !== 'customer' && r.auth !== 'public') {
        findings.push(
          finding(
            'k8s-policy',
            'route-auth-level',
            `${model.file} services.${service}.routes[${i}].auth`,
            `route ${r.path} has no auth level (got ${JSON.stringify(r.auth)}); set auth: customer or auth: public`,
          ),
        );
      }
    });
  }
  const plugins = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === 'KongPlugin') plugins.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  for (const r of model.routes()) {
    if (r.auth !== 'customer') continue;
    const name = routeName(r.service, r.path);
    const route = objects.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === name);
    if (!route) continue; // the route gate reports unrouted paths
    const names = String(
      (route.metadata.annotations as Record<string, string> | undefined)?.['konghq.com/plugins'] ?? '',
    ).split(',');
    for (const [plugin, kind] of Object.entries(TOKEN_CHECK)) {
      const found = plugins.get(`${route.metadata.namespace}/${plugin}`);
      if (!names.includes(plugin) || found?.plugin !== kind) {
        findings.push(
          finding(
            'k8s-policy',
            'edge-token-check',
            `${objectId(route)} metadata.annotations.konghq.com/plugins`,
            `route ${r.path} is auth: customer, but its HTTPRoute does not run the ${kind} plugin '${plugin}'; a request without a valid token would reach ${r.service}`,
          ),
        );
      }
    }
  }
  return findings;
}
