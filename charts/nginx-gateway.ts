import { createHash } from 'node:crypto';
import type { KubeObject } from './apply-order.js';
import type { HttpRouteMatch, HttpRouteSpec } from './crds/gateway-api.js';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { CLAIMS_PLUGIN_NAME, TOKEN_PLUGIN_NAME, UNAUTHORIZED_BODY } from './edge-token.js';
import {
  CLIENT_IDENTITY_HEADERS,
  COHORT_HEADER,
  COHORT_PLUGIN_NAME,
  CUSTOMER_COOKIE,
  OWN_ID_PATHS_ANNOTATION,
  OWNER_HEADER,
} from './edge-cohort.js';

/** Options of {@link renderNginxConfig}. */
export interface NginxGatewayOptions {
  /** The gateway's objects: HTTPRoutes, KongPlugins and the cohort KongClusterPlugin. */
  readonly objects: readonly KubeObject[];
  /** Local address (`host:port`) of each backend, by `namespace/name` of its backendRef. */
  readonly upstreams: Readonly<Record<string, string>>;
  /** Port to listen on (127.0.0.1). */
  readonly port: number;
  /** Directory for the pid file, logs and temp files (nginx's `-p` prefix). */
  readonly dir: string;
  /**
   * `host:port` of the token verifier that `auth_request` asks about customer routes.
   *
   * @default - none: every request to a customer route answers 401
   */
  readonly tokenVerifier?: string;
}

/** The internal location nginx's `auth_request` sends customer requests to. */
export const AUTH_PATH = '/.aio/auth';

/** Header nginx tells the token verifier with whether the route needs a customer token (`1`) or not (`0`). */
export const AUTH_ROUTE_HEADER = 'x-aio-auth-route';

/** Header of the token verifier's answer naming the token subject's bucket (nginx's `auth_request_set`). */
export const SUBJECT_COHORT_HEADER = 'x-aio-subject-cohort';

/** The named location that routes a request once its cohort is known (after `auth_request`). */
const ROUTE_LOCATION = '@aio_route';

/** Response header carrying the hash of the config that served the request (reloads wait for it). */
export const CONFIG_HEADER = 'x-aio-gateway-config';

/** The local gateway's own liveness path (answered by nginx, never routed; no Kong equivalent). */
export const GATEWAY_HEALTH_PATH = '/.aio/gateway/healthz';

interface Entry {
  readonly key: string;
  /** {@link key} without the cohort: what decides, before the cohort is known, whether a token is needed. */
  readonly authKey: string;
  /** nginx upstream name, or `aio_terminate` / `aio_missing:<ref>`. */
  readonly backend: string;
  /** Upstream URI expression. */
  readonly uri: string;
  readonly rank: readonly number[];
  /** The route has the customer token check. */
  readonly auth: boolean;
}

const esc = (s: string) => s.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');
const unanchor = (re: string) => re.replace(/^\^/, '').replace(/\$$/, '');
const nginxString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const upstreamName = (ref: string) => `aio_${ref.replace(/[^A-Za-z0-9]+/g, '_')}`;

/**
 * Renders an nginx config that applies the synthesized gateway with Kong's semantics, for `aio dev`
 * and the tests: nginx is the engine Kong runs on, and Kong itself cannot be installed here.
 *
 * - **Cohorts.** As Kong's `aio-cohort` pre-function does, a bearer token's `sub` names the customer,
 *   else the {@link CUSTOMER_COOKIE} cookie, minted from `$request_id` and set on the first response.
 *   nginx cannot read a JWT, so `auth_request` asks the token verifier (`cli/edge-token-verifier.ts`)
 *   about every request with an `Authorization` header; it answers the subject's bucket,
 *   `cohortBucket` of `sub:<sub>` (Kong's CRC32 function), in {@link SUBJECT_COHORT_HEADER}, which
 *   `auth_request_set` captures. Routing waits for it: `location /` only checks, then `try_files`
 *   hands the request to {@link ROUTE_LOCATION}, where the cohort is first read. Without a token (or
 *   without a verifier) the bucket is `split_clients` over the cookie in 100 slices of 1 %
 *   (MurmurHash2, where Kong uses CRC32: both stable per visitor and uniform, but an anonymous
 *   visitor's bucket differs between the two).
 * - **Token check.** A customer route needs the verifier's 204 for the request's token. Whether the
 *   route needs one is decided before the cohort is known, from method, owner and path: the two
 *   rules of a weighted route belong to one HTTPRoute, so they have the same plugins.
 * - **Owner.** {@link OWNER_HEADER} is set from the plugin's {@link OWN_ID_PATHS_ANNOTATION}.
 * - **Rules.** Every HTTPRoute match becomes one regex over `method cohort owner path`, in Gateway
 *   API precedence order (Exact, then RegularExpression, then the longest PathPrefix; then a method;
 *   then the most header matches); the first that matches picks the backend. `URLRewrite
 *   ReplacePrefixMatch` rewrites the prefix; nothing else is stripped (`konghq.com/strip-path: "false"`).
 * - **Plugins.** `rate-limiting` (`limit_req`, per IP, the minute budget as burst), `request-size-limiting`
 *   (`client_max_body_size`, 413), `correlation-id` (kept or `$request_id`, echoed), and
 *   `request-termination` (its status and body). `opentelemetry` is not emulated: `traceparent`
 *   passes through unchanged.
 *
 * Hostnames are ignored: the local gateway serves one host.
 *
 * @throws Error for a route construct it cannot render (a header match on another header)
 * @see https://nginx.org/en/docs/http/ngx_http_split_clients_module.html
 * @see https://nginx.org/en/docs/http/ngx_http_map_module.html
 */
export function renderNginxConfig(options: NginxGatewayOptions): string {
  const { objects, dir } = options;
  const plugins = new Map<string, KubeObject>();
  for (const o of objects) if (o.kind === 'KongPlugin') plugins.set(o.metadata.name!, o);
  const cohort = objects.find(
    (o) => o.kind === 'KongClusterPlugin' && o.metadata.name === COHORT_PLUGIN_NAME,
  );
  const annotations = (cohort?.metadata.annotations ?? {}) as Record<string, string>;
  const owners = JSON.parse(annotations[OWN_ID_PATHS_ANNOTATION] ?? '{}') as Record<string, string[]>;

  const routes = objects.filter((o) => o.kind === 'HTTPRoute');
  const entries: Entry[] = [];
  const pluginSets = new Set<string>();
  let termination: Record<string, unknown> | undefined;
  const used = new Set<string>();
  for (const route of routes) {
    const names = String((route.metadata.annotations as Record<string, string>)?.['konghq.com/plugins'] ?? '')
      .split(',')
      .filter(Boolean);
    const terminator = names.map((n) => plugins.get(n)).find((p) => p?.plugin === 'request-termination');
    if (terminator) termination = terminator.config as Record<string, unknown>;
    // the token check is per route (auth: customer); every other plugin is the edge's one set
    const tokenCheck = [TOKEN_PLUGIN_NAME, CLAIMS_PLUGIN_NAME];
    const auth = tokenCheck.every((n) => names.includes(n) && plugins.has(n));
    pluginSets.add(names.filter((n) => plugins.get(n) !== terminator && !tokenCheck.includes(n)).join(','));
    const spec = route.spec as HttpRouteSpec;
    for (const rule of spec.rules ?? []) {
      const refs = rule.backendRefs ?? [];
      // an unset weight is 1 (Gateway API BackendRef)
      const ref = refs.find((b) => (b.weight ?? 1) > 0) ?? refs[0];
      if (!ref)
        throw new Error(
          `HTTPRoute ${route.metadata.name}: the local gateway needs a backendRef in every rule`,
        );
      const refKey = `${ref.namespace ?? route.metadata.namespace}/${ref.name}`;
      let backend = terminator ? 'aio_terminate' : upstreamName(refKey);
      if (!terminator) {
        if (options.upstreams[refKey]) used.add(refKey);
        else backend = `aio_missing:${refKey}`;
      }
      const rewrite = rule.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path
        ?.replacePrefixMatch;
      // a rule without matches matches every request (Gateway API HTTPRouteRule)
      for (const m of rule.matches ?? [{}]) entries.push({ ...entry(m, backend, rewrite), auth });
    }
  }
  if (pluginSets.size > 1) {
    throw new Error(
      `the local gateway applies one plugin set to every route; found ${[...pluginSets].join(' | ')}`,
    );
  }
  const pluginNames = [...pluginSets][0]?.split(',').filter(Boolean) ?? [];
  const config = (name: string) =>
    pluginNames.map((n) => plugins.get(n)).find((p) => p?.plugin === name)?.config as
      Record<string, unknown> | undefined;
  entries.sort((a, b) => compareRank(a.rank, b.rank));
  // without a verifier, customer routes fail closed: every request to them answers 401
  const anyAuth = entries.some((e) => e.auth);
  assertAuthWithoutCohort(entries);
  // the verifier also names a token's cohort on public routes
  const edgeAuth = anyAuth || options.tokenVerifier !== undefined;
  const shadow = shadowRules(objects, options.upstreams);

  const rate = config('rate-limiting');
  const size = config('request-size-limiting');
  const correlation = config('correlation-id');
  const corrHeader = String(correlation?.header_name ?? 'X-Correlation-ID');
  const corrVar = `$http_${corrHeader.toLowerCase().replace(/-/g, '_')}`;
  const sizeMb = Number(size?.allowed_payload_size ?? 0) * unitMb(String(size?.size_unit ?? 'megabytes'));

  const keyMap = (variable: string, value: (e: Entry) => string, fallback: string) =>
    [
      `  map "$request_method $aio_cohort $aio_owner $uri" ${variable} {`,
      `    default ${fallback};`,
      ...entries.map((e) => `    ${nginxString(`~${e.key}`)} ${nginxString(value(e))};`),
      '  }',
    ].join('\n');
  const authMap = () =>
    [
      `  map "$request_method $aio_owner $uri" $aio_auth {`,
      `    default 0;`,
      ...entries.map((e) => `    ${nginxString(`~${e.authKey}`)} ${e.auth ? '1' : '0'};`),
      '  }',
    ].join('\n');
  const cookieOk = '~^[A-Za-z0-9-]{1,64}$';
  const body = [
    `worker_processes 1;`,
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    `events { worker_connections 1024; }`,
    `http {`,
    `  access_log off;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    `  server_tokens off;`,
    `  map $cookie_${CUSTOMER_COOKIE} $aio_customer { ${nginxString(cookieOk)} $cookie_${CUSTOMER_COOKIE}; default $request_id; }`,
    // a token's customer gets no cookie (Kong mints one only for the cookie's customer)
    edgeAuth
      ? `  map "$aio_subject_cohort:$cookie_${CUSTOMER_COOKIE}" $aio_set_cookie { '~^[0-9]' ''; ${nginxString(`~^:${cookieOk.slice(2)}`)} ''; default '${CUSTOMER_COOKIE}=$request_id; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax'; }`
      : `  map $cookie_${CUSTOMER_COOKIE} $aio_set_cookie { ${nginxString(cookieOk)} ''; default '${CUSTOMER_COOKIE}=$request_id; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax'; }`,
    `  split_clients "$aio_customer" $aio_cookie_cohort {`,
    ...Array.from({ length: 99 }, (_, b) => `    1% ${b};`),
    `    * 99;`,
    `  }`,
    // read first in ${ROUTE_LOCATION}, after auth_request_set: a token's bucket, else the cookie's
    edgeAuth
      ? `  map $aio_subject_cohort $aio_cohort { '~^[0-9]{1,2}$' $aio_subject_cohort; default $aio_cookie_cohort; }`
      : `  map $aio_cookie_cohort $aio_cohort { default $aio_cookie_cohort; }`,
    `  map $uri $aio_owner {`,
    `    default -;`,
    ...Object.entries(owners).flatMap(([svc, res]) =>
      res.map((re) => `    ${nginxString(`~${re}`)} ${svc};`),
    ),
    `  }`,
    `  map $aio_owner $aio_owner_header { - ''; default $aio_owner; }`,
    `  map ${corrVar} $aio_correlation { '' $request_id; default ${corrVar}; }`,
    keyMap('$aio_backend', (e) => e.backend, 'aio_missing:none'),
    keyMap('$aio_upstream_uri', (e) => e.uri, '$request_uri'),
    ...(edgeAuth
      ? [
          authMap(),
          // the verifier is asked about customer routes and about any request with a token
          `  map "$aio_auth_route $http_authorization" $aio_ask_verifier { '~^0 $' 0; default 1; }`,
          ...(options.tokenVerifier
            ? [
                `  upstream aio_token_verifier {`,
                `    server ${options.tokenVerifier};`,
                `    keepalive 16;`,
                `  }`,
              ]
            : []),
        ]
      : []),
    ...[...used]
      .sort()
      .map((ref) =>
        [
          `  upstream ${upstreamName(ref)} {`,
          `    server ${options.upstreams[ref]};`,
          `    keepalive 64;`,
          `  }`,
        ].join('\n'),
      ),
    ...(shadow
      ? [
          `  split_clients "$request_id" $aio_shadow_bucket {`,
          ...Array.from({ length: 99 }, (_, b) => `    1% ${b};`),
          `    * 99;`,
          `  }`,
          `  map "$aio_shadow_bucket $request_method $request_uri" $aio_shadow {`,
          `    default 0;`,
          ...shadow.rules.map((r) => `    ${nginxString(`~${r.key}`)} 1;`),
          `  }`,
          `  upstream aio_shadow_compare {`,
          `    server ${shadow.upstream};`,
          `    keepalive 16;`,
          `  }`,
        ]
      : []),
    ...(rate
      ? [`  limit_req_zone $binary_remote_addr zone=aio_rate:1m rate=${Number(rate.minute)}r/m;`]
      : []),
    `  server {`,
    `    listen 127.0.0.1:${options.port};`,
    `    client_max_body_size ${sizeMb > 0 ? `${sizeMb}m` : '0'};`,
    ...(rate
      ? [`    limit_req zone=aio_rate burst=${Number(rate.minute)} nodelay;`, `    limit_req_status 429;`]
      : []),
    `    error_page 413 = @aio_413;`,
    `    error_page 429 = @aio_429;`,
    `    location @aio_413 { default_type application/json; return 413 '{"message":"Request size limit exceeded"}'; }`,
    `    location @aio_429 { default_type application/json; return 429 '{"message":"API rate limit exceeded"}'; }`,
    ...(edgeAuth
      ? [
          `    error_page 401 = @aio_401;`,
          `    location @aio_401 {`,
          `      default_type application/problem+json;`,
          `      add_header WWW-Authenticate Bearer always;`,
          `      add_header ${CONFIG_HEADER} '@@HASH@@' always;`,
          `      return 401 ${nginxString(UNAUTHORIZED_BODY)};`,
          `    }`,
          // auth_request's subrequest: anonymous requests to public routes end here; the rest ask
          // the verifier (without one, customer routes answer 401)
          `    location = ${AUTH_PATH} {`,
          `      internal;`,
          ...(options.tokenVerifier
            ? [
                `      if ($aio_ask_verifier = 0) { return 204; }`,
                `      proxy_http_version 1.1;`,
                `      proxy_set_header Connection '';`,
                `      proxy_pass_request_body off;`,
                `      proxy_set_header Content-Length '';`,
                `      proxy_set_header Authorization $http_authorization;`,
                `      proxy_set_header ${AUTH_ROUTE_HEADER} $aio_auth_route;`,
                `      proxy_pass http://aio_token_verifier;`,
              ]
            : [`      if ($aio_auth_route != 1) { return 204; }`, `      return 401;`]),
          `    }`,
        ]
      : []),
    `    location = ${GATEWAY_HEALTH_PATH} {`,
    `      default_type application/json;`,
    `      add_header ${CONFIG_HEADER} '@@HASH@@' always;`,
    `      return 200 '{"status":"ok"}';`,
    `    }`,
    ...(shadow
      ? [
          // the mirror subrequest keeps the original $request_method and $request_uri; anything
          // not selected (another method, path or bucket) ends here without leaving nginx
          `    location = ${SHADOW_MIRROR_PATH} {`,
          `      internal;`,
          `      if ($aio_shadow = 0) { return 204; }`,
          `      proxy_http_version 1.1;`,
          `      proxy_set_header Connection '';`,
          `      proxy_set_header ${corrHeader} $aio_correlation;`,
          `      proxy_pass http://aio_shadow_compare$request_uri;`,
          `    }`,
        ]
      : []),
    ...(edgeAuth
      ? [
          // nothing here may read $aio_cohort: nginx caches a variable's first value, and the
          // token's bucket is known only after auth_request
          `    location / {`,
          // evaluated here, on the request's own $uri: the subrequest shares this request's variables
          `      set $aio_auth_route $aio_auth;`,
          `      auth_request ${AUTH_PATH};`,
          `      auth_request_set $aio_subject_cohort $upstream_http_${SUBJECT_COHORT_HEADER.replace(/-/g, '_')};`,
          // no such file: after the access phase, always on to the routing location
          `      root ${dir}/no-files;`,
          `      try_files /.aio-route ${ROUTE_LOCATION};`,
          `    }`,
          `    location ${ROUTE_LOCATION} {`,
        ]
      : [`    location / {`]),
    ...(shadow ? [`      mirror ${SHADOW_MIRROR_PATH};`] : []),
    `      add_header Set-Cookie $aio_set_cookie always;`,
    `      add_header ${CONFIG_HEADER} '@@HASH@@' always;`,
    ...(correlation?.echo_downstream ? [`      add_header ${corrHeader} $aio_correlation always;`] : []),
    `      if ($aio_backend = aio_terminate) {`,
    `        add_header ${CONFIG_HEADER} '@@HASH@@' always;`,
    `        return ${Number(termination?.status_code ?? 404)} ${nginxString(String(termination?.body ?? termination?.message ?? ''))};`,
    `      }`,
    `      if ($aio_backend ~ ^aio_missing:(.*)$) {`,
    `        add_header ${CONFIG_HEADER} '@@HASH@@' always;`,
    `        return 503 '{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"no local process for $1"}';`,
    `      }`,
    ...(termination?.content_type ? [`      default_type ${String(termination.content_type)};`] : []),
    `      proxy_http_version 1.1;`,
    `      proxy_set_header Connection '';`,
    `      proxy_set_header ${COHORT_HEADER} $aio_cohort;`,
    `      proxy_set_header ${OWNER_HEADER} $aio_owner_header;`,
    `      proxy_set_header ${corrHeader} $aio_correlation;`,
    `      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
    // nobody upstream trusts these, and the edge removes them as Kong's cohort function does
    ...CLIENT_IDENTITY_HEADERS.map((h) => `      proxy_set_header ${h} '';`),
    `      proxy_pass http://$aio_backend$aio_upstream_uri;`,
    `    }`,
    `  }`,
    `}`,
    '',
  ].join('\n');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return body.replaceAll('@@HASH@@', hash);
}

/** The hash a config announces in {@link CONFIG_HEADER}. */
export function configHash(config: string): string {
  return new RegExp(`${CONFIG_HEADER} '([0-9a-f]+)'`).exec(config)?.[1] ?? '';
}

/** The internal location the `mirror` directive sends a copy of each request to. */
export const SHADOW_MIRROR_PATH = '/.aio/shadow';

/**
 * The mirror rules of the VirtualServices among `objects` (see `ShadowMirror`), as regexes over
 * `bucket method request_uri`, with the comparer's local address (its backend key
 * `namespace/name` from the mirror host). `undefined` when nothing is mirrored or the comparer does
 * not run locally.
 *
 * @see https://nginx.org/en/docs/http/ngx_http_mirror_module.html
 */
function shadowRules(
  objects: readonly KubeObject[],
  upstreams: Readonly<Record<string, string>>,
): { upstream: string; rules: { key: string }[] } | undefined {
  let upstream: string | undefined;
  const rules: { key: string }[] = [];
  for (const vs of objects.filter((o) => o.kind === 'VirtualService')) {
    const http = ((vs.spec as IVirtualService['spec'])?.http ?? []).filter((h) => h.mirror);
    for (const h of http) {
      const [name, namespace] = h.mirror!.host.split('.');
      upstream = upstreams[`${namespace}/${name}`];
      const percent = h.mirrorPercentage?.value ?? 100;
      const buckets =
        percent >= 100 ? '\\d+' : `(?:${Array.from({ length: percent }, (_, i) => i).join('|')})`;
      for (const m of h.match ?? []) {
        const method = m.method?.exact ? esc(m.method.exact) : '\\S+';
        const path = m.uri?.exact
          ? `${esc(m.uri.exact)}(?:\\?.*)?`
          : m.uri?.prefix
            ? `${esc(m.uri.prefix)}.*`
            : '.*';
        rules.push({ key: `^${buckets} ${method} ${path}$` });
      }
    }
  }
  return upstream && rules.length ? { upstream, rules } : undefined;
}

function unitMb(unit: string): number {
  return unit === 'bytes' ? 1 / 1_048_576 : unit === 'kilobytes' ? 1 / 1024 : 1;
}

function entry(m: HttpRouteMatch, backend: string, rewrite: string | undefined): Omit<Entry, 'auth'> {
  let path: string;
  let rest = false;
  let rank: number[];
  // an unset path, type or value is Gateway API's default: PathPrefix `/`
  const value = m.path?.value ?? '/';
  switch (m.path?.type ?? 'PathPrefix') {
    case 'Exact':
      path = esc(value);
      rank = [0, -value.length];
      break;
    case 'RegularExpression':
      path = unanchor(value);
      rank = [1, 0];
      break;
    default: {
      const prefix = value.replace(/\/$/, '');
      // whole segments: /api/orders matches /api/orders and /api/orders/..., not /api/ordersx
      path = `${esc(prefix)}(?<aio_rest>/.*)?`;
      rest = true;
      rank = [2, -prefix.length];
    }
  }
  let cohort = '\\S+';
  let owner = '\\S+';
  for (const h of m.headers ?? []) {
    const value = h.type === 'RegularExpression' ? `(?:${unanchor(h.value)})` : esc(h.value);
    if (h.name.toLowerCase() === COHORT_HEADER) cohort = value;
    else if (h.name.toLowerCase() === OWNER_HEADER) owner = value;
    else
      throw new Error(`the local gateway matches only ${COHORT_HEADER} and ${OWNER_HEADER}, not ${h.name}`);
  }
  const method = m.method ? esc(m.method) : '\\S+';
  rank.push(m.method ? 0 : 1, -(m.headers?.length ?? 0));
  let uri = '$request_uri';
  if (rewrite !== undefined) {
    if (!rest) throw new Error('URLRewrite ReplacePrefixMatch needs a PathPrefix match (Gateway API)');
    const base = rewrite.replace(/\/$/, '');
    if (base === '')
      throw new Error('the local gateway cannot rewrite a prefix to /; rewrite it to a prefix');
    uri = `${base}$aio_rest$is_args$args`;
  }
  return {
    key: `^${method} ${cohort} ${owner} ${path}$`,
    authKey: `^${method} ${owner} ${path}$`,
    backend,
    uri,
    rank,
  };
}

/**
 * Refuses routes whose token check would depend on the cohort: nginx decides whether a request
 * needs a token before it knows the token's cohort. The gateway chart never renders such routes
 * (both rules of a weighted route are one HTTPRoute, with one plugin set).
 */
function assertAuthWithoutCohort(entries: readonly Entry[]): void {
  const seen = new Map<string, boolean>();
  for (const e of entries) {
    const auth = seen.get(e.authKey);
    if (auth !== undefined && auth !== e.auth)
      throw new Error(
        `the local gateway needs one token check per method and path, but ${e.authKey} is customer for one cohort and public for another`,
      );
    seen.set(e.authKey, e.auth);
  }
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
