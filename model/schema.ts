import { z } from 'zod';
import {
  DNS_1035_LABEL,
  DNS_LABEL,
  DNS_LABEL_MESSAGE,
  MAX_NAME_LENGTH,
  SERVICE_NAME_MESSAGE,
} from './dns-name.js';
import { ROUTE_PATH, ROUTE_PATH_MESSAGE } from './route-path.js';
import { naming } from './naming.js';

/**
 * The platform.yaml schema. Every object is strict: an unknown key is an error, never ignored.
 *
 * Defaults live here, so a `PlatformModel` is always complete. Messages follow the house style:
 * lowercase, what is wrong and what would be right.
 */

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DURATION = /^\d+(ms|s|m)$/;
const CPU = /^(\d+m|\d+(\.\d+)?)$/;
const MEMORY = /^\d+(Ki|Mi|Gi)$/;
const ENV_VAR = /^[A-Z][A-Z0-9_]*$/;

/** A DNS-1123 label of at most 40 characters: platform and environment names. */
export const dnsName = z
  .string()
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(DNS_LABEL, DNS_LABEL_MESSAGE);

/**
 * A service name: a DNS-1035 label of at most 40 characters, because each service becomes a
 * Kubernetes Service, and a Service name must start with a letter (`1abc` is refused).
 */
export const serviceName = z
  .string()
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(DNS_1035_LABEL, SERVICE_NAME_MESSAGE);

const duration = z.string().regex(DURATION, "must be a duration such as '500ms', '5s' or '1m'");

const environmentSchema = z
  .strictObject({
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id, quoted'),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as 'ap-northeast-2'"),
    size: z
      .enum(['small', 'ha'], {
        error: "must be 'small' (dev: 2 AZs, 1 NAT) or 'ha' (prod: 3 AZs, NAT per AZ)",
      })
      .describe('Size profile: small for dev, ha for production'),
    adminRoleArns: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/,
            'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
          ),
      )
      .default([])
      .describe('IAM roles of the infra team, granted cluster admin through EKS access entries'),
    certificateArn: z
      .string()
      .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, 'must be an ACM certificate ARN')
      .optional()
      .describe('ACM certificate for the gateway hosts, terminated at the gateway load balancer'),
    tracingStorage: z
      .enum(['memory', 'badger', 'opensearch'])
      .optional()
      .describe('Jaeger storage; defaults to badger for small and opensearch for ha'),
  })
  .describe('An AWS environment the platform is deployed to');

const clusterSchema = z
  .strictObject({
    kubernetesVersion: z
      .enum(['1.34'], { error: "must be '1.34', the version whose kubectl layer this toolkit ships" })
      .default('1.34'),
  })
  .default({ kubernetesVersion: '1.34' });

const legacySchema = z.strictObject({
  monolith: z
    .strictObject({
      host: z.string().regex(HOSTNAME, 'must be a DNS host name'),
      port: z.number().int().min(1).max(65535, 'must be a port from 1 to 65535'),
      protocol: z.enum(['http', 'https']).default('http'),
      contract: z
        .string()
        .min(1)
        .optional()
        .describe(
          "The monolith's route contract (OpenAPI 3.x, public operations marked x-aio-public), relative to this file; default services/monolith/openapi.json",
        ),
    })
    .describe('The legacy monolith: every path not migrated, and the rest of every weighted path, goes here'),
});

const gatewaySchema = z.strictObject({
  kind: z.literal('kong', { error: "must be 'kong', the only gateway this toolkit supports" }),
  hosts: z.array(z.string().regex(HOSTNAME, 'must be a DNS host name')).min(1, 'must list at least one host'),
  rateLimit: z
    .strictObject({
      perMinute: z.number().int().min(1, 'must be a positive integer').default(600),
      by: z.enum(['ip', 'consumer']).default('ip'),
    })
    .default({ perMinute: 600, by: 'ip' })
    .describe('Per-client request limit at the edge'),
  maxRequestBodyMb: z.number().int().min(1).max(100, 'must be an integer from 1 to 100').default(8),
});

const tierPolicySchema = z.strictObject({
  timeout: duration.describe('Whole-request timeout, retries included'),
  retries: z.strictObject({
    attempts: z.number().int().min(0).max(10, 'must be an integer from 0 to 10'),
    perTryTimeout: duration,
    on: z
      .array(z.enum(['5xx', 'reset', 'connect-failure', 'retriable-4xx', 'gateway-error', 'refused-stream']))
      .default(['5xx', 'reset', 'connect-failure']),
  }),
  circuitBreaker: z
    .strictObject({
      consecutive5xxErrors: z.number().int().min(1).default(5),
      interval: duration.default('10s'),
      baseEjectionTime: duration.default('30s'),
      maxEjectionPercent: z.number().int().min(1).max(100, 'must be an integer from 1 to 100').default(50),
      minHealthPercent: z
        .number()
        .int()
        .min(0)
        .max(100, 'must be an integer from 0 to 100')
        .default(50)
        .describe(
          "Envoy's panic threshold (Istio outlierDetection.minHealthPercent): below this share of healthy hosts the proxy ignores ejections and balances across all hosts. Written explicitly, never Istio's default",
        ),
      maxConnections: z.number().int().min(1).default(100),
      maxPendingRequests: z.number().int().min(1).default(100),
    })
    .default({
      consecutive5xxErrors: 5,
      interval: '10s',
      baseEjectionTime: '30s',
      maxEjectionPercent: 50,
      minHealthPercent: 50,
      maxConnections: 100,
      maxPendingRequests: 100,
    }),
});

/**
 * Retry conditions that never reach the callee's application: the connection was never made or
 * the stream was refused. `reset` is allowed beside them as the one response-less condition the
 * mesh may retry under an application retry layer (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on).
 */
export const TRANSPORT_RETRY_ON = ['connect-failure', 'refused-stream', 'reset'] as const;

// The apps retry (the saga engine) or fall back (the kit's Dependency): the mesh retries only what
// never reached the callee's code, once (docs/decisions.md, "One retry layer per call").
const DEFAULT_TIERS = {
  critical: {
    timeout: '2s',
    retries: { attempts: 1, perTryTimeout: '2s', on: ['connect-failure', 'reset'] },
  },
  'non-critical': {
    timeout: '1s',
    retries: { attempts: 1, perTryTimeout: '1s', on: ['connect-failure', 'reset'] },
  },
} as const;

const meshSchema = z.strictObject({
  mtls: z
    .enum(['strict'], { error: "must be 'strict': plaintext inside the mesh is not allowed" })
    .default('strict'),
  tracing: z
    .strictObject({
      sampling: z.number().min(0).max(100, 'must be a percentage from 0 to 100'),
    })
    .default({ sampling: 10 }),
  tiers: z
    .strictObject({
      critical: tierPolicySchema.default(tierPolicySchema.parse(DEFAULT_TIERS.critical)),
      'non-critical': tierPolicySchema.default(tierPolicySchema.parse(DEFAULT_TIERS['non-critical'])),
    })
    .default({
      critical: tierPolicySchema.parse(DEFAULT_TIERS.critical),
      'non-critical': tierPolicySchema.parse(DEFAULT_TIERS['non-critical']),
    })
    .describe('Timeouts, retries and circuit breaking per service tier'),
  maxAttemptsPerCall: z
    .number()
    .int()
    .min(1)
    .max(100, 'must be an integer from 1 to 100')
    .default(20)
    .describe(
      "Budget gate: the most requests one call may send a callee across layers, the app's attempts times the mesh's tries (1 + retries.attempts)",
    ),
  operators: z
    .array(
      z
        .string()
        .regex(
          /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
          "must be '<namespace>/<serviceAccount>', e.g. 'ops/operator'",
        ),
    )
    .default([])
    .describe(
      "Workloads (namespace/serviceAccount) that may call the services' operator endpoints (stock writes, /sagas*, /metrics, /openapi.json) through the mesh; nobody else can",
    ),
});

const tracingSchema = z
  .strictObject({
    backend: z.literal('jaeger').default('jaeger'),
    namespace: dnsName.default(naming.defaultTracingNamespace),
  })
  .default({ backend: 'jaeger', namespace: naming.defaultTracingNamespace });

/** Who may call a route: a customer with a valid token, or anyone. */
export const ROUTE_AUTH_LEVELS = ['customer', 'public'] as const;

const routeAuth = z
  .enum(ROUTE_AUTH_LEVELS, {
    error: "must be 'customer' (a valid customer token is required) or 'public' (no token needed)",
  })
  .default('customer')
  .describe(
    "Who may call this path through the gateway: 'customer' (default) needs a valid token from identity's issuer, checked at the edge and again by the service; 'public' needs none",
  );

const routeSchema = z.strictObject({
  path: z.string().regex(ROUTE_PATH, ROUTE_PATH_MESSAGE).describe('Path prefix moved to the new service'),
  weight: z
    .number({ error: 'must be an integer from 0 to 100' })
    .int('must be an integer from 0 to 100')
    .min(0, 'must be an integer from 0 to 100')
    .max(100, 'must be an integer from 0 to 100')
    .describe(
      'Percent of customers (stable buckets 0..99) sent to the new service; the rest go to the monolith',
    ),
  servicePath: z
    .string()
    .regex(ROUTE_PATH, "must start with '/' and use only URL path characters")
    .optional()
    .describe(
      'The prefix the service serves this path under: the gateway rewrites `path` to it (URLRewrite ReplacePrefixMatch). Default: the path itself, unchanged',
    ),
  shadow: z
    .number({ error: 'must be an integer from 0 to 100' })
    .int('must be an integer from 0 to 100')
    .min(0, 'must be an integer from 0 to 100')
    .max(100, 'must be an integer from 0 to 100')
    .optional()
    .describe(
      "Percent of this path's GET and HEAD requests mirrored to the service and compared with the monolith's answer (`aio shadow report`); other methods are never mirrored. Default: 0",
    ),
  shadowIgnore: z
    .array(
      z
        .string()
        .regex(
          /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\[\])*$/,
          "must be a field name such as 'createdAt' or a path such as 'items[].id'",
        ),
    )
    .optional()
    .describe(
      'Noisy response fields the shadow compare ignores: a field name (any depth) or a path such as `orders[].id`',
    ),
  auth: routeAuth,
});

/** `https://…`, or `http://` on a loopback host (a development issuer). */
const issuerUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    return (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) && !u.search && !u.hash;
  } catch {
    return false;
  }
}, "must be an https URL without query or fragment, e.g. 'https://login.allinone.example/' (http only on 127.0.0.1 or localhost)");

const identitySchema = z
  .strictObject({
    provision: z
      .enum(['cognito'], { error: "must be 'cognito', the only issuer the platform provisions" })
      .optional()
      .describe(
        "'cognito': the platform creates an Amazon Cognito user pool per environment and wires its issuer into the gateway and the services; leave issuer, audience and jwksUri out",
      ),
    issuer: issuerUrl.optional().describe("The OIDC issuer: the exact 'iss' claim of customer tokens"),
    audience: z
      .string()
      .min(1, 'must be a non-empty string')
      .optional()
      .describe("The 'aud' claim customer tokens must carry (the platform's client id at the issuer)"),
    jwksUri: issuerUrl
      .optional()
      .describe("Where the issuer publishes its signing keys; default '<issuer>/.well-known/jwks.json'"),
  })
  .superRefine((v, ctx) => {
    if (v.provision) {
      for (const key of ['issuer', 'audience', 'jwksUri'] as const) {
        if (v[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `the platform sets ${key} when provision is '${v.provision}'; remove it, or remove provision to name your own issuer`,
          });
        }
      }
      return;
    }
    for (const key of ['issuer', 'audience'] as const) {
      if (v[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is required: name the issuer's ${key === 'issuer' ? "'iss' URL" : "'aud' value"}, or write provision: cognito to let the platform create one`,
        });
      }
    }
  })
  .describe(
    'Who issues customer tokens: { issuer, audience, jwksUri? } for an existing OIDC issuer, or { provision: cognito }',
  );

const resourcesSchema = z.strictObject({
  requests: z.strictObject({
    cpu: z.string().regex(CPU, "must be a CPU quantity such as '250m' or '1'"),
    memory: z.string().regex(MEMORY, "must be a memory quantity such as '256Mi'"),
  }),
  limits: z.strictObject({
    cpu: z.string().regex(CPU, "must be a CPU quantity such as '500m' or '1'"),
    memory: z.string().regex(MEMORY, "must be a memory quantity such as '512Mi'"),
  }),
});

const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
};

const callBudgetSchema = z
  .strictObject({
    timeout: duration.describe(
      "The caller's timeout of one call to this callee (the app's, e.g. PARTICIPANT_TIMEOUT_MS)",
    ),
    attempts: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .default(1)
      .describe('Calls the app makes for one request or saga step: 1 + its own retries'),
    env: z
      .string()
      .regex(ENV_VAR, 'must be an UPPER_SNAKE environment variable name')
      .optional()
      .describe(
        "The caller's variable that holds `timeout` in milliseconds; a test checks the service's default agrees",
      ),
    background: z
      .boolean()
      .default(false)
      .describe(
        "True when the call runs outside any incoming request (a saga worker, a feed projector), so the caller's own timeout does not bound it",
      ),
  })
  .describe(
    "What the caller's code spends on one callee: its timeout and attempts, checked by the budget gate",
  );

const serviceMeshSchema = z
  .strictObject({
    timeout: duration.optional().describe("Replaces the tier's whole-request timeout for this service"),
    perTryTimeout: duration.optional().describe("Replaces the tier's per-try timeout for this service"),
  })
  .describe("This service's exceptions to its tier's timeouts (its callers' budgets differ from the tier's)");

const serviceSchema = z.strictObject({
  owner: z
    .string()
    .regex(DNS_LABEL, "must be a team name such as 'team-commerce'")
    .describe('Owning team: tags, CODEOWNERS and the service catalog use it'),
  description: z.string().optional(),
  tier: z
    .enum(['critical', 'non-critical'], { error: "must be 'critical' or 'non-critical'" })
    .default('critical'),
  port: z.number().int().min(1024).max(65535, 'must be a port from 1024 to 65535').default(8080),
  imageTag: z
    .string()
    .regex(/^[\w][\w.-]{0,127}$/, 'must be a container image tag')
    .refine((t) => t !== 'latest', "must not be 'latest': pin a version so deploys are repeatable")
    .default('0.1.0'),
  replicas: z
    .strictObject({
      min: z.number().int().min(1, 'must be at least 1'),
      max: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'),
    })
    .default({ min: 2, max: 4 }),
  resources: resourcesSchema.default(DEFAULT_RESOURCES),
  database: z.enum(['postgres', 'none'], { error: "must be 'postgres' or 'none'" }).default('none'),
  cache: z.enum(['redis', 'none'], { error: "must be 'redis' or 'none'" }).default('none'),
  calls: z.array(serviceName).default([]).describe('Services this one may call; everything else is denied'),
  callBudgets: z
    .record(serviceName, callBudgetSchema)
    .default({})
    .describe(
      'By callee in `calls`: the timeout and attempts of its calls (`aio validate` checks the budget)',
    ),
  fallbacks: z
    .record(serviceName, z.string().min(1, 'must describe the answer given without the callee'))
    .default({})
    .describe(
      "By callee in `calls`: what this service answers when the callee fails, e.g. 'reviews: { status: unavailable }'. Required when a critical service calls a non-critical one",
    ),
  mesh: serviceMeshSchema.optional(),
  routes: z.array(routeSchema).default([]),
  contract: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The service's route contract (its GET /openapi.json), relative to this file; default services/<name>/openapi.json",
    ),
  env: z
    .record(z.string().regex(ENV_VAR, 'must be an UPPER_SNAKE environment variable name'), z.string())
    .default({})
    .describe('Extra non-secret environment variables'),
  envFrom: z
    .record(z.string().regex(ENV_VAR, 'must be an UPPER_SNAKE environment variable name'), dnsName)
    .default({})
    .describe(
      "Variables that take their value from another service's env, so a value two services must agree on is written once: { RESERVATION_TTL_SECONDS: inventory }",
    ),
});

const gitopsSchema = z
  .strictObject({
    repoUrl: z
      .string()
      .regex(
        /^(https:\/\/|git@)[\w.@:/~-]+$/,
        "must be a git URL such as 'https://github.com/allinone/platform.git'",
      ),
    revision: z.string().min(1).default('main'),
    path: z
      .string()
      .regex(/^[\w.-]+(\/[\w.-]+)*$/, "must be a relative folder such as 'dist'")
      .default('dist'),
  })
  .describe('Where Argo CD finds the synthesized manifests: <repoUrl>@<revision>:<path>/<env>/k8s');

const packagesSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as 'ap-northeast-1'")
      .optional()
      .describe(
        "Region of the CodeArtifact npm registry, in the first environment's account (default: that environment's region; CodeArtifact is not offered in every region)",
      ),
  })
  .describe('The npm registry that the release workflow publishes @aio/* to and service repos install from');

/** The whole platform.yaml. */
export const platformSchema = z
  .strictObject({
    platform: dnsName.describe('Platform name: prefixes stacks, tags and registries'),
    cluster: clusterSchema,
    environments: z
      .record(dnsName, environmentSchema)
      .refine((envs) => Object.keys(envs).length > 0, 'must define at least one environment'),
    legacy: legacySchema,
    gateway: gatewaySchema,
    identity: identitySchema
      .optional()
      .describe('The issuer of customer tokens; required when any route is auth: customer'),
    mesh: meshSchema.default(meshSchema.parse({})),
    tracing: tracingSchema,
    gitops: gitopsSchema,
    packages: packagesSchema.default({}),
    services: z
      .record(serviceName, serviceSchema)
      .refine((s) => Object.keys(s).length > 0, 'must define at least one service'),
  })
  .describe('AllInOne platform definition: the single source of truth for aio');

/** platform.yaml as written (defaults not applied). */
export type PlatformInput = z.input<typeof platformSchema>;
/** platform.yaml with every default applied. */
export type PlatformSpec = z.output<typeof platformSchema>;
export type EnvironmentSpec = PlatformSpec['environments'][string];
export type ServiceSpec = PlatformSpec['services'][string];
export type RouteSpec = ServiceSpec['routes'][number];
export type TierPolicy = PlatformSpec['mesh']['tiers']['critical'];
export type CallBudgetSpec = ServiceSpec['callBudgets'][string];
export type ServiceTier = ServiceSpec['tier'];
export type IdentitySpec = NonNullable<PlatformSpec['identity']>;
export type RouteAuth = RouteSpec['auth'];
