import { CATCH_ALL_MESSAGE, normalizeRoutePath } from './route-path.js';
import type { FieldPath } from './source-positions.js';
import { renderValue } from './validation-error.js';
import { naming } from './naming.js';

/** A problem that only shows when fields are compared with each other. */
export interface CrossCheckProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly got?: string;
}

/** Variables the platform sets itself; a service may not override them through `env`. */
export const PLATFORM_ENV_VARS = [
  'PORT',
  'DATABASE_URL',
  'REDIS_URL',
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

/**
 * Prefixes reserved for the platform. The platform configures OpenTelemetry (the two `OTEL_*`
 * variables above), and any other `OTEL_*` would override it behind its back: the SDK prefers
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` to the platform's endpoint, `OTEL_SDK_DISABLED` turns
 * tracing off, `OTEL_PROPAGATORS` breaks W3C trace context across the mesh.
 *
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
export const PLATFORM_ENV_PREFIXES = ['OTEL_'] as const;

/** Why a service may not set `key` itself, or undefined when it may. */
function reservedReason(key: string, services: ReadonlySet<string>): string | undefined {
  if (
    PLATFORM_ENV_PREFIXES.some((p) => key.startsWith(p)) &&
    !(PLATFORM_ENV_VARS as readonly string[]).includes(key)
  ) {
    return `'${key}' is reserved: the platform configures OpenTelemetry (every OTEL_* variable; sampling is mesh.tracing.sampling); remove it`;
  }
  if (
    (PLATFORM_ENV_VARS as readonly string[]).includes(key) ||
    [...services].some((n) => peerUrlVariable(n) === key)
  ) {
    return `'${key}' is set by the platform (from database, cache and calls); remove it`;
  }
  return undefined;
}

/**
 * Checks that span several fields: unique route paths, `calls` that name real services, replica
 * bounds. It reads the raw document defensively, so it still reports what it can when the schema
 * has already found problems elsewhere.
 */
export function crossCheck(data: unknown): CrossCheckProblem[] {
  const problems: CrossCheckProblem[] = [];
  const services = asRecord(asRecord(data)?.services);
  if (!services) return problems;
  const names = new Set(Object.keys(services));
  const pathOwner = new Map<string, string>();
  const hasIdentity = asRecord(asRecord(data)?.identity) !== undefined;

  for (const [name, raw] of Object.entries(services)) {
    const svc = asRecord(raw);
    if (!svc) continue;

    if (Array.isArray(svc.routes)) {
      svc.routes.forEach((route, i) => {
        const auth = asRecord(route)?.auth ?? 'customer';
        if (auth === 'customer' && !hasIdentity) {
          const explicit = asRecord(route)?.auth !== undefined;
          problems.push({
            path: ['services', name, 'routes', i, ...(explicit ? ['auth'] : [])],
            message: `${explicit ? '' : "has auth 'customer' (the default), which "}needs a token issuer to check customers' tokens: add identity: { issuer, audience } (or identity: { provision: cognito }) at the top level, or set auth: public on this route`,
          });
        }
        const path = asRecord(route)?.path;
        if (typeof path !== 'string') return;
        const at: FieldPath = ['services', name, 'routes', i, 'path'];
        const normalized = normalizeRoutePath(path);
        if (normalized === '/') {
          problems.push({ path: at, message: CATCH_ALL_MESSAGE, got: renderValue(path) });
          return;
        }
        const owner = pathOwner.get(normalized);
        if (owner !== undefined) {
          problems.push({
            path: at,
            message: `route path is already used by service '${owner}'; each path belongs to one service`,
            got: renderValue(path),
          });
        } else {
          pathOwner.set(normalized, name);
        }
      });
    }

    if (Array.isArray(svc.calls)) {
      const seen = new Set<string>();
      svc.calls.forEach((callee, i) => {
        if (typeof callee !== 'string') return;
        const at: FieldPath = ['services', name, 'calls', i];
        if (callee === name) {
          problems.push({
            path: at,
            message: 'a service cannot call itself; remove this entry',
            got: renderValue(callee),
          });
        } else if (!names.has(callee) && callee !== naming.monolithService) {
          const known = [...names].filter((n) => n !== name).join(', ');
          problems.push({
            path: at,
            message: `names no service in this platform; known services are ${known}, and '${naming.monolithService}' (the legacy monolith)`,
            got: renderValue(callee),
          });
        } else if (seen.has(callee)) {
          problems.push({
            path: at,
            message: 'is listed twice; remove the duplicate',
            got: renderValue(callee),
          });
        }
        seen.add(callee);
      });
    }

    const replicas = asRecord(svc.replicas);
    if (
      replicas &&
      typeof replicas.min === 'number' &&
      typeof replicas.max === 'number' &&
      replicas.min > replicas.max
    ) {
      problems.push({
        path: ['services', name, 'replicas', 'max'],
        message: `must be at least replicas.min (${replicas.min})`,
        got: renderValue(replicas.max),
      });
    }

    const env = asRecord(svc.env);
    if (env) {
      for (const key of Object.keys(env)) {
        const reason = reservedReason(key, names);
        if (reason) problems.push({ path: ['services', name, 'env', key], message: `${reason} from env` });
      }
    }
    problems.push(...checkEnvFrom(name, asRecord(svc.envFrom), env, services));
  }
  return problems;
}

/**
 * `envFrom: { VAR: peer }` takes VAR from `services.<peer>.env`: the peer must exist and set it,
 * and the service must not set it twice or take a variable the platform sets.
 */
function checkEnvFrom(
  name: string,
  envFrom: Record<string, unknown> | undefined,
  env: Record<string, unknown> | undefined,
  services: Record<string, unknown>,
): CrossCheckProblem[] {
  const problems: CrossCheckProblem[] = [];
  const names = new Set(Object.keys(services));
  for (const [key, from] of Object.entries(envFrom ?? {})) {
    if (typeof from !== 'string') continue;
    const at: FieldPath = ['services', name, 'envFrom', key];
    const reason = reservedReason(key, names);
    const fromEnv = asRecord(asRecord(services[from])?.env);
    if (reason) {
      problems.push({ path: at, message: `${reason} from envFrom` });
    } else if (env && key in env) {
      problems.push({ path: at, message: `'${key}' is also set in env; keep one of the two` });
    } else if (from === name) {
      problems.push({
        path: at,
        message: 'a service cannot take a variable from itself; set it in env',
        got: renderValue(from),
      });
    } else if (!names.has(from)) {
      const known = [...names].filter((n) => n !== name).join(', ');
      problems.push({
        path: at,
        message: `names no service in this platform; known services are ${known}`,
        got: renderValue(from),
      });
    } else if (typeof fromEnv?.[key] !== 'string') {
      problems.push({
        path: at,
        message: `services.${from}.env does not set '${key}'; set it there, or remove this entry`,
        got: renderValue(from),
      });
    }
  }
  return problems;
}

/** The variable that carries a peer's base URL: `inventory` → `INVENTORY_URL`. */
export function peerUrlVariable(service: string): string {
  return `${service.toUpperCase().replace(/-/g, '_')}_URL`;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
