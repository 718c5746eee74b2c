import { Construct } from 'constructs';
import * as zlib from 'node:zlib';
import { KongClusterPlugin } from './crds/kong-plugin.js';

/** The first-party cookie that names an anonymous visitor (no bearer token) for the cohort. */
export const CUSTOMER_COOKIE = 'aio_customer';
/** `kong.ctx.shared` field holding the token subject the cohort was computed from. */
export const COHORT_SUBJECT_CTX = 'aio_cohort_subject';
/**
 * Identity headers a client could send to pose as someone: the edge removes them from every
 * request (Kong's auth plugins set the `X-Consumer-*` ones upstream; no service trusts any of them).
 */
export const CLIENT_IDENTITY_HEADERS: readonly string[] = [
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  'x-credential-identifier',
  'x-anonymous-consumer',
  'x-authenticated-userid',
  'x-customer-id',
  'x-user-id',
  'x-aio-customer',
];
/** The request header the edge sets to the customer's bucket, 0 to 99. Client values are overwritten. */
export const COHORT_HEADER = 'x-aio-cohort';
/** The request header the edge sets to the service whose id a read names. Client values are removed. */
export const OWNER_HEADER = 'x-aio-owner';
/** Annotation of the cohort plugin: JSON `{ service: [anchored path regex, ...] }` of own-id reads. */
export const OWN_ID_PATHS_ANNOTATION = 'aio.dev/own-id-paths';
/** The {@link OWNER_HEADER} value for ids the monolith minted. */
export const MONOLITH_OWNER = 'monolith';
/** Name of the cohort plugin. */
export const COHORT_PLUGIN_NAME = 'aio-cohort';
/** What the cohort function prefixes a token subject with, so no cookie value can pose as a subject. */
export const SUBJECT_CUSTOMER_PREFIX = 'sub:';

/**
 * The bucket, 0 to 99, of a customer id as Kong's cohort function computes it:
 * `ngx.crc32_long(id) % 100`, CRC-32 (IEEE 802.3, zlib's) over the id's bytes. For a token's
 * customer the id is {@link SUBJECT_CUSTOMER_PREFIX} + `sub`. The local gateway's token verifier
 * uses it, so a customer's bucket is the same locally and in the cluster.
 *
 * @see https://github.com/openresty/lua-nginx-module#ngxcrc32_long
 * @see https://nodejs.org/api/zlib.html#zlibcrc32data-value
 */
export function cohortBucket(customer: string): number {
  return zlib.crc32(customer) % 100;
}

/**
 * The `sub` of a bearer token as Kong's cohort function reads it, before any verification: the
 * payload segment of `Bearer <header>.<payload>.<signature>`, base64url-decoded JSON, its `sub` when
 * a non-empty string. Verification comes after routing (the customer-claims check refuses a request
 * unless the verified subject is this one).
 *
 * @returns undefined for no bearer token, an undecodable payload, or no usable `sub`
 */
export function claimedSubject(authorization: string | undefined): string | undefined {
  const payload = /^[Bb]earer\s+[^.]+\.([^.]+)\./.exec(authorization ?? '')?.[1];
  if (!payload || !/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const sub = (claims as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' && sub !== '' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The regular expression over {@link COHORT_HEADER} values that selects buckets `0 .. weight-1`,
 * e.g. 25 → `^([0-9]|1[0-9]|2[0-4])$`. Raising the weight only adds buckets, so customers only
 * ever move from the monolith to the service.
 *
 * @returns undefined for weight 0 (no bucket)
 */
export function cohortRegex(weight: number): string | undefined {
  if (weight <= 0) return undefined;
  if (weight >= 100) return '^[0-9]{1,2}$';
  const tens = Math.floor(weight / 10);
  const units = weight % 10;
  const parts: string[] = [tens >= 1 ? '[0-9]' : `[0-${units - 1}]`];
  if (tens >= 2) parts.push(tens === 2 ? '1[0-9]' : `[1-${tens - 1}][0-9]`);
  if (tens >= 1 && units > 0) parts.push(units === 1 ? `${tens}0` : `${tens}[0-${units - 1}]`);
  return parts.length === 1 ? `^${parts[0]}$` : `^(${parts.join('|')})$`;
}

/** Props of {@link EdgeCohort}. */
export interface EdgeCohortProps {
  /** Own-id reads by service: anchored regexes over the request path. @default {} */
  readonly ownIdPaths?: Readonly<Record<string, readonly string[]>>;
  /** Cookie lifetime in seconds. @default 31536000 (a year) */
  readonly cookieMaxAgeSeconds?: number;
}

const luaString = (s: string) => `[==[${s}]==]`;

/**
 * The edge computation behind sticky cohorts, as a global Kong `pre-function` (KongClusterPlugin
 * labelled `global: "true"`). In Kong's rewrite phase, which runs before the router and only for
 * global plugins, it:
 *
 * 1. names the customer by the bearer token's `sub` (kept in `kong.ctx.shared` for the
 *    customer-claims check of `charts/edge-token.ts`, which refuses the request unless the verified
 *    subject is this one), or without a token by the {@link CUSTOMER_COOKIE} cookie, minted from
 *    `ngx.var.request_id` and set on the response (header_filter phase, through `kong.ctx.plugin`);
 *    and removes the {@link CLIENT_IDENTITY_HEADERS};
 * 2. sets {@link COHORT_HEADER} to `crc32(customer) % 100` ({@link cohortBucket}), overwriting any client value;
 * 3. sets {@link OWNER_HEADER} to the service whose own-id pattern the path matches, else removes it.
 *
 * HTTPRoute rules then match on those headers (Gateway API header matches), so a route's weight
 * selects buckets, not requests. The local gateway (`charts/nginx-gateway.ts`) computes the same two
 * headers in nginx from the {@link OWN_ID_PATHS_ANNOTATION} annotation, a token's bucket with
 * {@link cohortBucket} in its token verifier.
 *
 * @see https://developer.konghq.com/plugins/pre-function/
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#httpheadermatch
 */
export class EdgeCohort extends Construct {
  /** The KongClusterPlugin. */
  public readonly plugin: KongClusterPlugin;

  constructor(scope: Construct, id: string, props: EdgeCohortProps = {}) {
    super(scope, id);
    const owners = props.ownIdPaths ?? {};
    const maxAge = props.cookieMaxAgeSeconds ?? 31_536_000;
    const ownerChecks = Object.entries(owners)
      .flatMap(([svc, regexes]) =>
        regexes.map(
          (re) => `if not owner and ngx.re.find(path, ${luaString(re)}, 'jo') then owner = '${svc}' end`,
        ),
      )
      .join('\n');
    const rewrite = [
      // a bearer token's subject names the customer (unverified here, before routing: the
      // customer-claims check refuses the request unless this subject is the verified one)
      `local id`,
      `local auth = kong.request.get_header('authorization')`,
      `local payload = type(auth) == 'string' and auth:match('^[Bb]earer%s+[^.]+%.([^.]+)%.')`,
      `if payload then`,
      `  payload = payload:gsub('-', '+'):gsub('_', '/')`,
      `  local claims = require('cjson.safe').decode(ngx.decode_base64(payload .. string.rep('=', (4 - #payload % 4) % 4)) or '')`,
      `  if type(claims) == 'table' and type(claims.sub) == 'string' and claims.sub ~= '' then`,
      `    id = '${SUBJECT_CUSTOMER_PREFIX}' .. claims.sub`,
      `    kong.ctx.shared.${COHORT_SUBJECT_CTX} = claims.sub`,
      `  end`,
      `end`,
      `if not id then`,
      `  id = ngx.var.cookie_${CUSTOMER_COOKIE}`,
      `  if not id or #id > 64 or not ngx.re.find(id, '^[A-Za-z0-9-]+$', 'jo') then`,
      `    id = ngx.var.request_id`,
      `    kong.ctx.plugin.new_customer = id`,
      `  end`,
      `end`,
      ...CLIENT_IDENTITY_HEADERS.map((h) => `kong.service.request.clear_header('${h}')`),
      `kong.service.request.set_header('${COHORT_HEADER}', tostring(ngx.crc32_long(id) % 100))`,
      `local path = kong.request.get_path()`,
      `local owner`,
      ownerChecks,
      `if owner then kong.service.request.set_header('${OWNER_HEADER}', owner) else kong.service.request.clear_header('${OWNER_HEADER}') end`,
    ]
      .filter(Boolean)
      .join('\n');
    const headerFilter = [
      `local id = kong.ctx.plugin.new_customer`,
      `if id then kong.response.add_header('Set-Cookie', '${CUSTOMER_COOKIE}=' .. id .. '; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Lax') end`,
    ].join('\n');
    this.plugin = new KongClusterPlugin(this, 'Plugin', {
      metadata: {
        name: COHORT_PLUGIN_NAME,
        labels: { global: 'true' },
        annotations: {
          'kubernetes.io/ingress.class': 'kong',
          [OWN_ID_PATHS_ANNOTATION]: JSON.stringify(owners),
        },
      },
      plugin: 'pre-function',
      config: { rewrite: [rewrite], header_filter: [headerFilter] },
    });
  }
}
