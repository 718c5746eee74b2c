import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_TOKEN_AUDIENCE } from '@aio/kit/testing';
import type { ProcessContext, ProcessEntry } from './process-entry.js';

/** The development issuer's process name: every service and the monolith trust its tokens. */
export const TOKEN_ISSUER = 'token-issuer';

/**
 * The platform's local processes, one entry each. `aio dev`, the e2e, fault and chaos tests and the
 * benchmarks start subsets of this table through {@link startStack}; the order of the entries is the
 * order of `aio dev`'s fixed ports (`--base-port` for the first, then the next ones).
 *
 * The monolith, the gateway, the token issuer and the next services are added here, one entry each.
 */
const TABLE: readonly ProcessEntry[] = [
  {
    name: 'order',
    role: 'service',
    main: 'services/order/dist/main.js',
    database: true,
    // the price cache (the kit's CacheAside) and its change-feed cursor
    redis: true,
    calls: ['inventory', 'payment', 'catalog'],
    // order refuses to start unless its saga deadline fits inside inventory's reservation TTL, so it
    // reads the value inventory was given (900 is inventory's default)
    env: (ctx) => ({ RESERVATION_TTL_SECONDS: ctx.envOf('inventory').RESERVATION_TTL_SECONDS ?? '900' }),
  },
  {
    name: 'inventory',
    role: 'service',
    main: 'services/inventory/dist/main.js',
    database: true,
    redis: true,
  },
  {
    name: 'payment',
    role: 'service',
    main: 'services/payment/dist/main.js',
    database: true,
  },
  {
    // the reference legacy monolith: what every route falls back to
    name: 'monolith',
    role: 'monolith',
    main: 'services/monolith/dist/main.js',
    database: true,
  },
  {
    // nginx generated from platform.yaml's gateway objects, reloaded when the file changes (so
    // `aio route` takes effect without a restart); routed services that do not run locally answer 503
    name: 'gateway',
    role: 'gateway',
    main: 'lib/bin/local-gateway.js',
    calls: ['monolith', 'order', 'inventory', 'review', 'catalog', 'shadow-compare'],
    readyPath: '/.aio/gateway/healthz',
    env: (ctx) => ({ AIO_PLATFORM_FILE: join(ctx.root, 'platform.yaml') }),
  },
  {
    // the shadow comparer: the gateway mirrors a route's `shadow` % of GETs here; each is asked of
    // the monolith and the service and compared; under `aio dev` the comparisons go to
    // <root>/.aio/shadow.jsonl, which `aio shadow report` reads
    name: 'shadow-compare',
    role: 'support',
    main: 'lib/bin/shadow-compare.js',
    calls: ['monolith', 'order', 'inventory'],
    env: (ctx) => ({
      AIO_PLATFORM_FILE: join(ctx.root, 'platform.yaml'),
      // a test stack's comparisons stay out of the repository
      AIO_SHADOW_LOG:
        ctx.scope === 'test'
          ? join(tmpdir(), `aio-shadow-${ctx.port}.jsonl`)
          : join(ctx.root, '.aio', 'shadow.jsonl'),
    }),
  },
  {
    // reviews and rating summaries: non-critical; last, so the ports of the
    // entries above stay those `aio dev` has always given them
    name: 'review',
    role: 'service',
    main: 'services/review/dist/main.js',
    database: true,
  },
  {
    // products and their prices: order prices every line from it (after review, so the fixed ports
    // of the entries above stay where `aio dev` has always put them); its product page reads review's
    // rating summary (with a fallback when review is down)
    name: 'catalog',
    role: 'service',
    main: 'services/catalog/dist/main.js',
    database: true,
    calls: ['review'],
  },
  {
    // the order-history read model: projects the feeds of order, payment, the catalog (item names)
    // and the monolith (the legacy backfill reads the monolith's from position 0); last, so earlier
    // ports stay as they were
    name: 'order-history',
    role: 'service',
    main: 'services/order-history/dist/main.js',
    database: true,
    calls: ['order', 'payment', 'catalog', 'monolith'],
  },
  {
    // the development OIDC issuer: every service's AUTH_* points here, tests take tokens from it
    // (`stack.tokens`), `aio dev token` too; last, so every port above stays where it was. Its keys
    // are kept in the stack's state directory (mode 0600), so a restart keeps every token valid; one
    // file per port, as aio dev's state files are per base port, so two stacks never share keys
    name: TOKEN_ISSUER,
    role: 'support',
    main: 'services/stack/dist/token-issuer-main.js',
    env: (ctx) => ({ TOKEN_ISSUER_KEYS_FILE: join(ctx.stateDir, `token-issuer-${ctx.port}.keys.json`) }),
  },
];

/**
 * The issuer's `AUTH_*` for a process of the stack: the variables the kit's token check reads.
 */
export function identityEnv(ctx: ProcessContext): Record<string, string> {
  const issuer = ctx.url(TOKEN_ISSUER);
  return {
    AUTH_ISSUER: issuer,
    AUTH_AUDIENCE: DEV_TOKEN_AUDIENCE,
    AUTH_JWKS_URI: `${issuer}/.well-known/jwks.json`,
    // the local machine is shared by many processes: a key fetch may take longer than in a cluster
    AUTH_JWKS_TIMEOUT_MS: '5000',
  };
}

/**
 * A service, the monolith or the gateway (its edge check on customer routes): started after the
 * issuer, with its `AUTH_*` (its own `env` wins). Without them the gateway answers 401 on every
 * customer route, so `aio dev` users could never call one through it.
 */
function trustingIssuer(entry: ProcessEntry): ProcessEntry {
  if (entry.role !== 'service' && entry.role !== 'monolith' && entry.role !== 'gateway') return entry;
  const own = entry.env;
  return {
    ...entry,
    after: [...(entry.after ?? []), TOKEN_ISSUER],
    env: (ctx) => ({ ...identityEnv(ctx), ...own?.(ctx) }),
  };
}

/**
 * The platform's local processes (the table above, in its order), each service, the monolith and
 * the gateway trusting the token issuer.
 */
export const PLATFORM_PROCESSES: readonly ProcessEntry[] = TABLE.map(trustingIssuer);
