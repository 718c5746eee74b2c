import { peerUrlVariable } from './cross-checks.js';
import { naming } from './naming.js';
import { normalizeRoutePath } from './route-path.js';
import type { EnvironmentSpec, PlatformSpec, RouteAuth, ServiceSpec, TierPolicy } from './schema.js';
import { ValidationError } from './validation-error.js';

/** One environment, with its name. */
export interface EnvironmentModel extends EnvironmentSpec {
  readonly name: string;
  /** Jaeger storage, resolved from the size profile when not set. */
  readonly tracingStorage: NonNullable<EnvironmentSpec['tracingStorage']>;
}

/** One service, with its name and the values derived from the rest of the platform. */
export interface ServiceModel extends ServiceSpec {
  readonly name: string;
  /** `env` plus each `envFrom` variable with the value its service sets: what the workload gets. */
  readonly env: Readonly<Record<string, string>>;
  /** The mesh policy of this service's tier, with the service's `mesh` timeouts applied. */
  readonly tierPolicy: TierPolicy;
  /** Services that may call this one (the reverse of `calls`). */
  readonly calledBy: readonly string[];
  /** Env variable → peer name for each entry of `calls`: `{ INVENTORY_URL: 'inventory' }`. */
  readonly peerUrlVariables: Readonly<Record<string, string>>;
}

/**
 * The customers a route's weight selects: each customer falls into one of 100 stable buckets
 * (0–99), and weight N sends buckets 0..N-1 to the service, so N % of customers.
 */
export interface RouteCohort {
  /** The first bucket sent to the service (always 0). */
  readonly firstBucket: number;
  /** The last bucket sent to the service: `weight - 1`. */
  readonly lastBucket: number;
}

/** One migrated path: what the gateway routes and `aio routes` shows. */
export interface RouteModel {
  /** The service that takes over the path. */
  readonly service: string;
  /** Path prefix, normalized (no trailing `/`). */
  readonly path: string;
  /** Percent of customers sent to the service, 0 to 100. */
  readonly weight: number;
  /** Percent still sent to the legacy monolith: `100 - weight`. */
  readonly monolithWeight: number;
  /** The buckets sent to the service, or `undefined` at weight 0. */
  readonly cohort?: RouteCohort;
  /** Percent of the path's GET/HEAD requests mirrored to the service and compared, 0 to 100. */
  readonly shadow: number;
  /** Response fields the shadow compare ignores (names or `a[].b` paths). */
  readonly shadowIgnore: readonly string[];
  /** The prefix the service serves the path under (the gateway's rewrite target). */
  readonly servicePath: string;
  /** Who may call the path: `customer` (a verified token) or `public` (anyone). */
  readonly auth: RouteAuth;
}

/**
 * The issuer of customer tokens, as the gateway and the services check them.
 *
 * `issuer`: an existing OIDC issuer named in platform.yaml. `cognito`: the AWS layer creates an
 * Amazon Cognito user pool per environment, whose issuer is
 * `https://cognito-idp.<region>.amazonaws.com/<userPoolId>` and whose keys are at
 * `<issuer>/.well-known/jwks.json`; the pool id exists only once the environment is deployed.
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 */
export type IdentityModel =
  | {
      readonly kind: 'issuer';
      /** The exact `iss` claim. */
      readonly issuer: string;
      /** The `aud` claim tokens must carry. */
      readonly audience: string;
      /** The issuer's JWKS: `jwksUri`, or `<issuer>/.well-known/jwks.json`. */
      readonly jwksUri: string;
    }
  | { readonly kind: 'cognito' };

/** `<issuer>/.well-known/jwks.json`, with one `/` between the two. */
export function defaultJwksUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/**
 * What the shadow comparer knows of a route (`cli/shadow-compare.ts`): the fields it reads, as the
 * in-cluster comparer's routes ConfigMap holds them (`charts/shadow-comparer.ts`).
 */
export type ShadowRoute = Pick<RouteModel, 'service' | 'path' | 'servicePath' | 'shadow' | 'shadowIgnore'>;

/** One row of the strangler migration table (`aio routes --json`, the PR summary). */
export interface RouteRow {
  /** Path prefix, or `/` for the catch-all. */
  readonly path: string;
  /** The new service, or `undefined` for the catch-all row. */
  readonly service?: string;
  /** Percent sent to the new service. */
  readonly servicePercent: number;
  /** Percent still sent to the legacy monolith. */
  readonly monolithPercent: number;
}

/** The platform's npm registry (CodeArtifact), where `@aio/*` is published and installed from. */
export interface PackageRegistryModel {
  /** The environment whose account holds it (the first one, where service images are pushed too). */
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  /** CodeArtifact domain and repository names. */
  readonly domain: string;
  readonly repository: string;
  /** The npm scope published there, without `@`. */
  readonly scope: string;
  /** The registry URL for `.npmrc`: `@<scope>:registry=<url>`. */
  readonly url: string;
}

/** An allowed call from one service to another. */
export interface CallEdge {
  readonly from: string;
  readonly to: string;
}

/**
 * The validated, defaulted platform: what constructs, charts, the scaffolder and pipelines read.
 *
 * It is immutable. Build one with `loadPlatform()` / `parsePlatform()`, or construct it from a
 * `PlatformSpec` in code (the constructs and charts never need the YAML).
 */
export class PlatformModel {
  public readonly name: string;
  public readonly spec: Readonly<PlatformSpec>;
  /** The file it was read from, for messages. */
  public readonly file: string;
  public readonly environments: readonly EnvironmentModel[];
  public readonly services: readonly ServiceModel[];
  /** The issuer of customer tokens, or undefined when every route is `auth: public`. */
  public readonly identity: IdentityModel | undefined;

  constructor(spec: PlatformSpec, file = 'platform.yaml') {
    this.spec = deepFreeze(structuredClone(spec));
    this.name = spec.platform;
    this.file = file;
    this.environments = Object.entries(this.spec.environments).map(([name, env]) => ({
      ...env,
      name,
      tracingStorage: env.tracingStorage ?? (env.size === 'ha' ? 'opensearch' : 'badger'),
    }));
    const id = this.spec.identity;
    this.identity = !id
      ? undefined
      : id.provision === 'cognito'
        ? Object.freeze({ kind: 'cognito' as const })
        : Object.freeze({
            kind: 'issuer' as const,
            issuer: id.issuer ?? '',
            audience: id.audience ?? '',
            jwksUri: id.jwksUri ?? defaultJwksUri(id.issuer ?? ''),
          });
    const callers = new Map<string, string[]>();
    for (const [name, svc] of Object.entries(this.spec.services)) {
      for (const callee of svc.calls) callers.set(callee, [...(callers.get(callee) ?? []), name]);
    }
    this.services = Object.entries(this.spec.services)
      .map(([name, svc]) => ({
        ...svc,
        // `envFrom` resolved: the consumers of `env` see the value the named service sets.
        env: {
          ...svc.env,
          ...Object.fromEntries(
            Object.entries(svc.envFrom ?? {}).map(([key, from]) => [
              key,
              this.spec.services[from]?.env[key] ?? '',
            ]),
          ),
        },
        name,
        tierPolicy: effectiveTierPolicy(this.spec.mesh.tiers[svc.tier], svc),
        calledBy: (callers.get(name) ?? []).sort(),
        peerUrlVariables: Object.fromEntries(svc.calls.map((peer) => [peerUrlVariable(peer), peer])),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    deepFreeze(this.environments);
    deepFreeze(this.services);
  }

  /** The service called `name`. @throws ValidationError naming the known services */
  public service(name: string): ServiceModel {
    const svc = this.services.find((s) => s.name === name);
    if (!svc) {
      throw new ValidationError(
        `no service '${name}' in ${this.file}; known services are ${this.services.map((s) => s.name).join(', ')}`,
      );
    }
    return svc;
  }

  /** The environment called `name`. @throws ValidationError naming the known environments */
  public environment(name: string): EnvironmentModel {
    const env = this.environments.find((e) => e.name === name);
    if (!env) {
      throw new ValidationError(
        `no environment '${name}' in ${this.file}; known environments are ${this.environments.map((e) => e.name).join(', ')}`,
      );
    }
    return env;
  }

  /** Services that declare `database: postgres`. */
  public get servicesWithDatabase(): readonly ServiceModel[] {
    return this.services.filter((s) => s.database === 'postgres');
  }

  /** Services that declare `cache: redis`. */
  public get servicesWithCache(): readonly ServiceModel[] {
    return this.services.filter((s) => s.cache === 'redis');
  }

  /**
   * Every migrated path, sorted by path: the typed view the gateway chart and `aio routes` read.
   * Everything not listed goes to the monolith.
   */
  public routes(): readonly RouteModel[] {
    return this.services
      .flatMap((svc) =>
        svc.routes.map((r): RouteModel => {
          const route = {
            service: svc.name,
            path: normalizeRoutePath(r.path),
            weight: r.weight,
            monolithWeight: 100 - r.weight,
            shadow: r.shadow ?? 0,
            shadowIgnore: r.shadowIgnore ?? [],
            servicePath: r.servicePath ? normalizeRoutePath(r.servicePath) : normalizeRoutePath(r.path),
            // A spec built in code may leave it out: the safe level, never public by omission.
            auth: r.auth ?? 'customer',
          };
          return r.weight > 0 ? { ...route, cohort: { firstBucket: 0, lastBucket: r.weight - 1 } } : route;
        }),
      )
      .sort((a, b) => a.path.localeCompare(b.path));
  }

  /**
   * The strangler routes table as rows: {@link routes} plus the catch-all `/` that sends everything
   * else to the monolith. What `aio routes --json` prints and the PR summary compares.
   */
  public routesTable(): readonly RouteRow[] {
    const rows: RouteRow[] = this.routes().map((r) => ({
      path: r.path,
      service: r.service,
      servicePercent: r.weight,
      monolithPercent: r.monolithWeight,
    }));
    rows.push({ path: '/', servicePercent: 0, monolithPercent: 100 });
    return rows;
  }

  /** Every allowed service-to-service call, sorted. Anything not listed is denied by the mesh. */
  public callGraph(): readonly CallEdge[] {
    return this.services
      .flatMap((s) => s.calls.map((to) => ({ from: s.name, to })))
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  }

  /**
   * The npm registry: in the first environment's account, in `packages.region` or that
   * environment's region.
   */
  public get packageRegistry(): PackageRegistryModel {
    const env = this.environments[0]!;
    const region = this.spec.packages.region ?? env.region;
    const names = { domain: naming.packageDomain(this.name), repository: naming.packageRepository };
    return {
      environment: env.name,
      account: env.account,
      region,
      ...names,
      scope: 'aio',
      url: naming.npmRegistryUrl(names, { account: env.account, region }),
    };
  }

  /** Services reachable from the gateway (at least one route). */
  public get routedServices(): readonly ServiceModel[] {
    return this.services.filter((s) => s.routes.length > 0);
  }
}

/** The tier's policy with the service's own `mesh` timeouts in place of the tier's. */
function effectiveTierPolicy(tier: TierPolicy, svc: ServiceSpec): TierPolicy {
  if (!svc.mesh) return tier;
  return {
    ...tier,
    timeout: svc.mesh.timeout ?? tier.timeout,
    retries: { ...tier.retries, perTryTimeout: svc.mesh.perTryTimeout ?? tier.retries.perTryTimeout },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
