import { Chart, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { planGateway } from '../model/route-contracts.js';
import { ValidationError } from '../model/validation-error.js';
import {
  Gateway,
  GatewayClass,
  HTTP_METHODS,
  HttpRoute,
  isHttpMethod,
  ReferenceGrant,
  type HttpMethod,
  type HttpRouteMatch,
  type HttpRouteSpecRule,
} from './crds/gateway-api.js';
import { KongPlugin } from './crds/kong-plugin.js';
import { ServiceEntry } from './crds/istio-networking.js';
import { AuthorizationPolicy, PeerAuthentication } from './crds/istio-security.js';
import { GatewayTls } from './gateway-tls.js';
import { COHORT_HEADER, cohortRegex, EdgeCohort, MONOLITH_OWNER, OWNER_HEADER } from './edge-cohort.js';
import { EdgePlugins } from './kong-plugins.js';
import { EdgeTokenCheck } from './edge-token.js';
import { MESH_NAMESPACE_LABELS, PSS_RESTRICTED_LABELS } from './private/labels.js';
import { SERVICE_PORT } from './service-chart.js';
import { TokenIssuer } from './token-issuer.js';

/** One migrated path. */
export interface GatewayRouteProps {
  /** The new service. */
  readonly service: string;
  /** Public path prefix. */
  readonly path: string;
  /** The prefix the service receives instead of `path` (URLRewrite). @default - path, unchanged */
  readonly servicePath?: string;
  /** Percent of customers (buckets 0..weight-1) sent to the service; the rest go to the monolith. */
  readonly weight: number;
  /** Methods of the service's public operations under the path (from its route contract). */
  readonly methods: readonly string[];
  /** Anchored path regexes of reads of ids the service minted: they reach it at every weight. @default [] */
  readonly ownIdPaths?: readonly string[];
  /** The same for ids the monolith minted: they stay on the monolith at every weight. @default [] */
  readonly monolithOwnIdPaths?: readonly string[];
  /** Who may call it: `customer` routes get the edge token check. @default 'customer' */
  readonly auth?: 'customer' | 'public';
}

/** Props of a {@link GatewayChart}. */
export interface GatewayChartProps extends ChartProps {
  /** Public host names. */
  readonly hosts: readonly string[];
  /** The migrated paths. @default [] */
  readonly routes?: readonly GatewayRouteProps[];
  /** The legacy monolith. */
  readonly monolith: { readonly host: string; readonly port: number; readonly protocol?: 'http' | 'https' };
  /** @default 600 */
  readonly rateLimitPerMinute?: number;
  /** @default 'ip' */
  readonly rateLimitBy?: 'ip' | 'consumer';
  /** @default 8 */
  readonly maxRequestBodyMb?: number;
  /** OTLP/HTTP endpoint (without `/v1/traces`). @default - the Jaeger collector in `observability` */
  readonly otlpEndpoint?: string;
  /** Where TLS terminates. @default GatewayTls.secret('gateway-tls') */
  readonly tls?: GatewayTls;
  /** Labels of Kong's proxy pods (set by its Helm chart). @default { 'app.kubernetes.io/name': 'kong' } */
  readonly kongPodLabels?: Readonly<Record<string, string>>;
  /**
   * Also create Kong's namespace. The AWS layer creates it (labelled for sidecar injection) before
   * it installs Kong, so the platform leaves it out.
   *
   * @default false
   */
  readonly createGatewayNamespace?: boolean;
  /** Kong's proxy container ports (plaintext, TLS). @default ['8000', '8443'] */
  readonly kongProxyPorts?: readonly string[];
  /**
   * The monolith's non-public operations (method, anchored path regex): the edge answers them 404.
   *
   * @default []
   */
  readonly monolithOperatorOps?: readonly { readonly method: string; readonly path: string }[];
  /**
   * The token issuer whose tokens the edge accepts on customer routes: its values
   * (`TokenIssuer.of`), or the Secrets Manager secret a provisioned issuer publishes them in
   * (`TokenIssuer.fromSecret`), read in the cluster at run time. Required as soon as one route is
   * `auth: customer`.
   *
   * @default - none: every route must be public
   */
  readonly identity?: TokenIssuer;
  /**
   * The External Secrets `SecretStore` in Kong's namespace that serves a `TokenIssuer.fromSecret`.
   *
   * @default naming.gatewayIdentityStore
   */
  readonly identitySecretStore?: string;
}

/** Name of the HTTPRoute that answers 404 for the monolith's operator endpoints. */
export const OPERATOR_ROUTE = 'monolith-operator-paths';

/** The HTTPRoute name of a migrated path: `order` + `/api/orders` → `order-api-orders`. */
export function routeName(service: string, path: string): string {
  const slug = path
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
  return `${service}-${slug}`.slice(0, 63).replace(/-$/, '');
}

/**
 * The strangler-fig edge: Kong through the Gateway API. A GatewayClass and a TLS Gateway for the
 * platform hosts, one HTTPRoute per migrated path with two weighted backends (the service and the
 * monolith), a catch-all `/` to the monolith, the monolith as an ExternalName Service, and the
 * edge KongPlugins. Kong runs in the mesh: its namespace gets sidecars, the proxy ports accept
 * plaintext from the load balancer, and Services carry `konghq.com/service-upstream` so Kong
 * sends traffic through Istio instead of to pod IPs.
 *
 * @see https://docs.konghq.com/kubernetes-ingress-controller/latest/guides/services/upstream/
 */
export class GatewayChart extends Chart {
  /** Props from the platform model: TLS at the load balancer when the env has a certificate. */
  public static propsFromModel(model: PlatformModel, envName: string): GatewayChartProps {
    const g = model.spec.gateway;
    const env = model.environment(envName);
    const plan = planGateway(model);
    const id = model.identity;
    return {
      // a provisioned pool's issuer exists only once the environment is deployed: the AWS layer
      // publishes it as a secret, and the edge reads it in the cluster (charts/edge-token.ts)
      identity:
        id?.kind === 'issuer'
          ? TokenIssuer.of({ issuer: id.issuer, audience: id.audience, jwksUri: id.jwksUri })
          : id?.kind === 'cognito'
            ? TokenIssuer.fromSecret(naming.identitySecret(model.name, envName))
            : undefined,
      hosts: g.hosts,
      routes: plan.routes,
      monolithOperatorOps: plan.monolithOperatorOps,
      monolith: model.spec.legacy.monolith,
      rateLimitPerMinute: g.rateLimit.perMinute,
      rateLimitBy: g.rateLimit.by,
      maxRequestBodyMb: g.maxRequestBodyMb,
      otlpEndpoint: naming.otlpHttpEndpoint(model.spec.tracing.namespace),
      tls: env.certificateArn
        ? GatewayTls.loadBalancer(env.certificateArn)
        : GatewayTls.secret('gateway-tls'),
    };
  }

  /** HTTPRoutes by name, the catch-all included. */
  public readonly routes: ReadonlyMap<string, HttpRoute>;

  constructor(scope: Construct, id: string, props: GatewayChartProps) {
    super(scope, id, props);
    const kongNs = naming.gatewayNamespace;
    const legacyNs = naming.monolithNamespace;
    const routes = props.routes ?? [];
    const proxyPorts = props.kongProxyPorts ?? ['8000', '8443'];
    for (const r of routes) {
      if (!Number.isInteger(r.weight) || r.weight < 0 || r.weight > 100) {
        throw new ValidationError(
          `route ${r.path}: 'weight' must be an integer from 0 to 100, got ${r.weight}`,
        );
      }
    }

    const namespaces: [string, string][] = [['LegacyNamespace', legacyNs]];
    if (props.createGatewayNamespace) namespaces.unshift(['KongNamespace', kongNs]);
    for (const [cid, name] of namespaces) {
      new kplus.Namespace(this, cid, {
        metadata: { name, labels: { ...MESH_NAMESPACE_LABELS, ...PSS_RESTRICTED_LABELS } },
      });
    }

    // Kong in the mesh: plaintext from the load balancer on the proxy ports only, nothing else.
    const kongSelector = {
      matchLabels: { ...(props.kongPodLabels ?? { 'app.kubernetes.io/name': 'kong' }) },
    };
    new PeerAuthentication(this, 'KongProxyPlaintext', {
      metadata: { name: 'kong-proxy', namespace: kongNs },
      spec: {
        selector: kongSelector,
        mtls: { mode: 'STRICT' },
        portLevelMtls: Object.fromEntries(proxyPorts.map((p) => [p, { mode: 'PERMISSIVE' as const }])),
      },
    });
    new AuthorizationPolicy(this, 'KongDenyAll', {
      metadata: { name: 'default-deny', namespace: kongNs },
      spec: {},
    });
    new AuthorizationPolicy(this, 'KongAllowProxy', {
      metadata: { name: 'kong-allow-proxy', namespace: kongNs },
      spec: {
        selector: kongSelector,
        action: 'ALLOW',
        rules: [{ to: [{ operation: { ports: [...proxyPorts] } }] }],
      },
    });

    const monolith = props.monolith;
    new kplus.k8s.KubeService(this, 'Monolith', {
      metadata: {
        name: naming.monolithService,
        namespace: legacyNs,
        annotations: monolith.protocol === 'https' ? { 'konghq.com/protocol': 'https' } : {},
      },
      spec: {
        type: 'ExternalName',
        externalName: monolith.host,
        ports: [{ name: monolith.protocol ?? 'http', port: monolith.port }],
      },
    });

    // The monolith lives outside the cluster: register it so Kong's sidecar treats it as HTTP.
    new ServiceEntry(this, 'MonolithEntry', {
      metadata: { name: naming.monolithService, namespace: legacyNs },
      spec: {
        hosts: [monolith.host],
        ports: [
          {
            number: monolith.port,
            name: monolith.protocol ?? 'http',
            protocol: monolith.protocol === 'https' ? 'TLS' : 'HTTP',
          },
        ],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
      },
    });

    const gatewayName = 'kong';
    new GatewayClass(this, 'GatewayClass', {
      metadata: { name: 'kong', annotations: { 'konghq.com/gatewayclass-unmanaged': 'true' } },
      spec: { controllerName: 'konghq.com/kic-gateway-controller' },
    });
    const tls = props.tls ?? GatewayTls.secret('gateway-tls');
    new Gateway(this, 'Gateway', {
      metadata: { name: gatewayName, namespace: kongNs, annotations: tls.annotations() },
      spec: { gatewayClassName: 'kong', listeners: tls.listeners(props.hosts) },
    });

    const plugins = new EdgePlugins(this, 'Plugins', {
      namespace: kongNs,
      rateLimitPerMinute: props.rateLimitPerMinute,
      rateLimitBy: props.rateLimitBy,
      maxRequestBodyMb: props.maxRequestBodyMb,
      otlpTracesEndpoint: `${props.otlpEndpoint ?? naming.otlpHttpEndpoint(naming.defaultTracingNamespace)}/v1/traces`,
    });

    const ownIdPaths: Record<string, string[]> = {};
    for (const r of routes) {
      if (r.ownIdPaths?.length) (ownIdPaths[r.service] ??= []).push(...r.ownIdPaths);
    }
    for (const r of routes) {
      const legacy = (r.monolithOwnIdPaths ?? []).filter(
        (p) => !(ownIdPaths[MONOLITH_OWNER] ?? []).includes(p),
      );
      if (legacy.length) (ownIdPaths[MONOLITH_OWNER] ??= []).push(...legacy);
    }
    new EdgeCohort(this, 'Cohort', { ownIdPaths });
    const customerRoutes = routes.filter((r) => (r.auth ?? 'customer') === 'customer');
    if (customerRoutes.length > 0 && !props.identity) {
      throw new ValidationError(
        `route ${customerRoutes[0]!.path}: 'auth' is customer, but the gateway has no 'identity' to check tokens against; give identity, or make the route public`,
      );
    }
    const tokenCheck = props.identity
      ? new EdgeTokenCheck(this, 'TokenCheck', {
          namespace: kongNs,
          tokenIssuer: props.identity,
          secretStoreName: props.identitySecretStore,
        })
      : undefined;
    const byName = new Map<string, HttpRoute>();
    const monolithRef = { name: naming.monolithService, namespace: legacyNs, port: monolith.port };
    const route = (cid: string, name: string, rules: HttpRouteSpecRule[], plugins: string) =>
      byName.set(
        name,
        new HttpRoute(this, cid, {
          metadata: {
            name,
            namespace: kongNs,
            // KIC strips the matched prefix unless told not to; rewrites are explicit URLRewrite filters.
            // KIC also preserves the client's Host by default, and Kong's sidecar routes by Host: with
            // shop.example as Host no VirtualService of the mesh (retries, timeouts, the shadow
            // mirror) would match. The upstream's host is sent instead.
            // https://developer.konghq.com/kubernetes-ingress-controller/reference/host-manipulation
            annotations: {
              'konghq.com/plugins': plugins,
              'konghq.com/strip-path': 'false',
              'konghq.com/preserve-host': 'false',
            },
          },
          spec: { parentRefs: [{ name: gatewayName }], hostnames: [...props.hosts], rules },
        }),
      );
    for (const r of routes) {
      route(
        `Route-${routeName(r.service, r.path)}`,
        routeName(r.service, r.path),
        migratedRules(r, monolithRef),
        (r.auth ?? 'customer') === 'customer'
          ? [plugins.annotation, ...tokenCheck!.pluginNames].join(',')
          : plugins.annotation,
      );
    }
    const operatorOps = props.monolithOperatorOps ?? [];
    if (operatorOps.length > 0) {
      const notFound = new KongPlugin(this, 'OperatorNotFound', {
        metadata: { name: 'operator-not-found', namespace: kongNs },
        plugin: 'request-termination',
        config: {
          status_code: 404,
          content_type: 'application/problem+json',
          body: JSON.stringify({
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            detail: 'no such route',
          }),
        },
      });
      route(
        'OperatorPaths',
        OPERATOR_ROUTE,
        [
          {
            matches: operatorOps.map((o) => ({
              path: { type: 'RegularExpression', value: o.path },
              method: httpMethod(o.method, `monolith operator operation ${o.method} ${o.path}`),
            })),
            backendRefs: [{ ...monolithRef, weight: 100 }],
          },
        ],
        `${plugins.annotation},${notFound.metadata.name}`,
      );
    }
    route(
      'CatchAll',
      'monolith-catch-all',
      [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ ...monolithRef, weight: 100 }],
        },
      ],
      plugins.annotation,
    );
    this.routes = byName;

    // Routes live in Kong's namespace; their backends' namespaces must grant the reference.
    const grantNamespaces = [
      ...new Set([legacyNs, ...routes.map((r) => naming.namespace(r.service))]),
    ].sort();
    for (const ns of grantNamespaces) {
      new ReferenceGrant(this, `Grant-${ns}`, {
        metadata: { name: 'kong-routes', namespace: ns },
        spec: {
          from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: kongNs }],
          to: [{ group: '', kind: 'Service' }],
        },
      });
    }
  }
}

/**
 * The rules of one migrated path, by precedence: own-id reads to the side that minted the id
 * (whatever the weight), the cohort's public methods to the service (prefix rewritten to
 * `servicePath`), and the same methods to the monolith unchanged for everyone else. Other methods fall through to the catch-all.
 */
function migratedRules(
  r: GatewayRouteProps,
  monolithRef: { name: string; namespace: string; port: number },
): HttpRouteSpecRule[] {
  const serviceRef = {
    name: r.service,
    namespace: naming.namespace(r.service),
    port: SERVICE_PORT,
    weight: 100,
  };
  const servicePath = r.servicePath ?? r.path;
  const filters =
    servicePath === r.path
      ? []
      : [
          {
            type: 'URLRewrite' as const,
            urlRewrite: { path: { type: 'ReplacePrefixMatch' as const, replacePrefixMatch: servicePath } },
          },
        ];
  const prefix = { type: 'PathPrefix' as const, value: r.path };
  const methods = r.methods.map((m) => httpMethod(m, `route ${r.path}`));
  const rules: HttpRouteSpecRule[] = [];
  if ((r.ownIdPaths ?? []).length > 0) {
    rules.push({
      matches: [{ path: prefix, method: 'GET', headers: [{ name: OWNER_HEADER, value: r.service }] }],
      ...(filters.length ? { filters } : {}),
      backendRefs: [serviceRef],
    });
  }
  const cohort = cohortRegex(r.weight);
  if (cohort && (r.monolithOwnIdPaths ?? []).length > 0) {
    // a moved customer's reads of what the monolith created stay on the monolith
    rules.push({
      matches: [{ path: prefix, method: 'GET', headers: [{ name: OWNER_HEADER, value: MONOLITH_OWNER }] }],
      backendRefs: [{ ...monolithRef, weight: 100 }],
    });
  }
  if (cohort) {
    const matches: HttpRouteMatch[] = methods.map((method) => ({
      path: prefix,
      method,
      headers: [{ type: 'RegularExpression', name: COHORT_HEADER, value: cohort }],
    }));
    rules.push({ matches, ...(filters.length ? { filters } : {}), backendRefs: [serviceRef] });
  }
  if (r.weight < 100) {
    rules.push({
      matches: methods.map((method) => ({ path: prefix, method })),
      backendRefs: [{ ...monolithRef, weight: 100 }],
    });
  }
  return rules;
}

/** `method` as an HTTPRoute match names it, or a {@link ValidationError} saying where it came from. */
function httpMethod(method: string, where: string): HttpMethod {
  if (isHttpMethod(method)) return method;
  throw new ValidationError(
    `${where}: '${method}' is not an HTTPRoute method; use one of ${HTTP_METHODS.join(', ')}`,
  );
}
