import { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { VirtualService } from './crds/istio-networking.js';
import { SHADOW_COMPARER_SERVICE_PORT } from './shadow-comparer.js';

/** Props of a {@link ShadowMirror}. */
export interface ShadowMirrorProps {
  /** The routes with a shadow percentage above 0. */
  readonly routes: readonly { readonly path: string; readonly percent: number }[];
  /**
   * The monolith's host as the mesh knows it: the gateway's ServiceEntry host,
   * `legacy.monolith.host`. Since Istio 1.21 the ExternalName Service `monolith.legacy` is only an
   * alias of it: a VirtualService on the alias no longer matches, one on the ServiceEntry's host
   * matches requests to either name.
   * @default 'monolith.legacy.svc.cluster.local' (right only where no ServiceEntry stands behind it)
   * @see https://istio.io/latest/news/releases/1.21.x/announcing-1.21/upgrade-notes/#externalname-support-changes
   */
  readonly monolithHost?: string;
  /** In-mesh host of the comparer. @default 'shadow-compare.shadow-compare.svc.cluster.local' */
  readonly comparerHost?: string;
  /** Port of the comparer's Service. @default SHADOW_COMPARER_SERVICE_PORT (80), as `ShadowComparerChart` exposes it */
  readonly comparerPort?: number;
}

/**
 * Shadow compare in the cluster: an Istio VirtualService on the monolith's host that, for each
 * shadowed route, mirrors `percent` % of its GET and HEAD requests to the shadow comparer, and routes
 * everything (mirrored or not) to the monolith as before. Only reads are mirrored: a mirrored POST
 * would create a real order on the service.
 *
 * Istio's mirror is fire and forget: the proxy does not wait for the mirror's answer and discards it,
 * and it appends `-shadow` to the mirrored request's Host/Authority. The comparer therefore asks the
 * monolith and the service itself (see `cli/shadow-compare.ts`) and ignores the Host. The comparer's
 * workload is `ShadowComparerChart`; the mirror's destination is its Service (host and Service port).
 *
 * Only requests from the gateway's namespace are mirrored (`sourceNamespace`): the comparer's own GET
 * to the monolith passes through this VirtualService too, and must not be mirrored back to it.
 *
 * Applies where the monolith is called from inside the mesh: the Kong proxy pod must run a sidecar
 * for its calls to the monolith to pass through this VirtualService, which is on the ServiceEntry's
 * host (`monolithHost`) so that it matches the ExternalName alias too. Kong OSS itself cannot
 * mirror: it does not implement the Gateway API RequestMirror filter (KIC issue 4165).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute (mirror, mirrorPercentage)
 * @see https://istio.io/latest/docs/tasks/traffic-management/mirroring/
 */
export class ShadowMirror extends Construct {
  /** Props from the platform model, or `undefined` when no route is shadowed. */
  public static propsFromModel(model: PlatformModel): ShadowMirrorProps | undefined {
    const routes = model
      .routes()
      .filter((r) => r.shadow > 0)
      .map((r) => ({ path: r.path, percent: r.shadow }));
    return routes.length ? { routes, monolithHost: model.spec.legacy.monolith.host } : undefined;
  }

  constructor(scope: Construct, id: string, props: ShadowMirrorProps) {
    super(scope, id);
    const monolith =
      props.monolithHost ?? naming.clusterHost(naming.monolithService, naming.monolithNamespace);
    const comparer =
      props.comparerHost ?? naming.clusterHost(naming.shadowComparerService, naming.shadowComparerNamespace);
    const toMonolith = [{ destination: { host: monolith } }];
    for (const r of props.routes) {
      if (!Number.isInteger(r.percent) || r.percent < 1 || r.percent > 100) {
        throw new Error(`shadow of ${r.path} must be an integer from 1 to 100, got ${r.percent}`);
      }
    }
    // longest prefix first: Istio takes the first matching rule
    const routes = [...props.routes].sort((a, b) => b.path.length - a.path.length);
    new VirtualService(this, 'VirtualService', {
      metadata: { name: `${naming.monolithService}-shadow`, namespace: naming.monolithNamespace },
      spec: {
        hosts: [monolith],
        http: [
          ...routes.map((r) => ({
            // whole segments: the path itself and everything under it
            match: ['GET', 'HEAD'].flatMap((method) =>
              [{ exact: r.path }, { prefix: `${r.path}/` }].map((uri) => ({
                uri,
                method: { exact: method },
                sourceNamespace: naming.gatewayNamespace,
              })),
            ),
            route: toMonolith,
            mirror: { host: comparer, port: { number: props.comparerPort ?? SHADOW_COMPARER_SERVICE_PORT } },
            mirrorPercentage: { value: r.percent },
          })),
          { route: toMonolith },
        ],
      },
    });
  }
}
