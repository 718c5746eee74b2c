import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { PlatformModel, RouteModel } from './platform-model.js';
import { normalizeRoutePath } from './route-path.js';
import { formatPath, SourcePositions, type FieldPath } from './source-positions.js';
import { ValidationError, ValidationErrors } from './validation-error.js';

/** The OpenAPI extension a kit service sets on each public operation (`config.public`). */
export const PUBLIC_EXTENSION = 'x-aio-public';
/** The OpenAPI extension carrying an own-id read's id pattern (`config.ownIds`). */
export const OWN_IDS_EXTENSION = 'x-aio-own-ids';

/** One operation of a route contract. */
export interface ContractOperation {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** OpenAPI path template, e.g. `/orders/{orderId}`. */
  readonly path: string;
  /** Marked public (`x-aio-public`): the gateway may route it. */
  readonly public: boolean;
  /** Own-id read: the unanchored pattern of the ids this service mints (`x-aio-own-ids`). */
  readonly ownIds?: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * The operations of an OpenAPI 3.x document (a kit service's `GET /openapi.json`).
 *
 * @throws Error naming what is wrong with the document
 */
export function contractOperations(doc: unknown): ContractOperation[] {
  const paths = (doc as { paths?: unknown } | null)?.paths;
  if (!paths || typeof paths !== 'object') throw new Error("has no 'paths' object; is it OpenAPI 3?");
  const ops: ContractOperation[] = [];
  for (const [path, item] of Object.entries(paths as Record<string, Record<string, unknown>>)) {
    for (const [method, raw] of Object.entries(item ?? {})) {
      if (!METHODS.includes(method)) continue;
      const op = (raw ?? {}) as Record<string, unknown>;
      const ownIds = op[OWN_IDS_EXTENSION];
      ops.push({
        method: method.toUpperCase(),
        path,
        public: op[PUBLIC_EXTENSION] === true,
        ...(typeof ownIds === 'string' ? { ownIds } : {}),
      });
    }
  }
  return ops.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** The rest of `path` after `prefix`, matched by whole path segments (`/a/b` is under `/a`, `/ab` is not). */
export function underPrefix(path: string, prefix: string): string | undefined {
  const p = prefix.replace(/\/$/, '');
  if (path === p || p === '') return path.slice(p.length);
  return path.startsWith(`${p}/`) ? path.slice(p.length) : undefined;
}

/** One migrated path ({@link PlatformModel.routes}), checked against both backends' contracts. */
export interface RoutePlan extends RouteModel {
  /** The prefix the service receives instead (equal to `path` when nothing is rewritten). */
  readonly servicePath: string;
  /** Methods of the service's public operations under `servicePath`, sorted. */
  readonly methods: readonly string[];
  /** Anchored regexes of public paths that are reads of ids the service minted. */
  readonly ownIdPaths: readonly string[];
  /** The same for ids the monolith minted: those reads stay on the monolith at every weight. */
  readonly monolithOwnIdPaths: readonly string[];
}

/** What the gateway routes, derived from platform.yaml and the route contracts. */
export interface GatewayPlan {
  readonly routes: readonly RoutePlan[];
  /** The monolith's non-public operations (method and an anchored path regex): the edge answers 404. */
  readonly monolithOperatorOps: readonly { readonly method: string; readonly path: string }[];
}

/** An OpenAPI path template as an anchored regex over request paths (`{x}` is one segment). */
export function templateRegex(template: string): string {
  const body = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return `^${body}$`;
}

/** True when two OpenAPI path templates name the same operation path, whatever their parameter names. */
export const sameTemplate = (a: string, b: string): boolean =>
  a.replace(/\{[^}]+\}/g, '{}') === b.replace(/\{[^}]+\}/g, '{}');

/** The OpenAPI extension, at a contract's top level, listing the peer operations a service calls. */
export const CALLS_EXTENSION = 'x-aio-calls';

/** One peer operation a service calls, from its contract's `x-aio-calls` (kit `declareCalls`). */
export interface ContractCall {
  /** The peer, as platform.yaml names it. */
  readonly service: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** OpenAPI path template of the peer's contract. */
  readonly path: string;
}

/** The peer operations an OpenAPI document says its service calls (`x-aio-calls`), or none. */
export function contractCalls(doc: unknown): ContractCall[] {
  const raw = (doc as Record<string, unknown> | null)?.[CALLS_EXTENSION];
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error(`'${CALLS_EXTENSION}' must be an array, got ${typeof raw}`);
  return raw.map((c: unknown, i) => {
    const o = (c ?? {}) as Record<string, unknown>;
    if (typeof o.service !== 'string' || typeof o.method !== 'string' || typeof o.path !== 'string') {
      throw new Error(`'${CALLS_EXTENSION}[${i}]' must have string 'service', 'method' and 'path'`);
    }
    return { service: o.service, method: o.method.toUpperCase(), path: o.path };
  });
}

/** A route contract: its operations and the peer operations its service calls. */
export interface RouteContract {
  readonly operations: readonly ContractOperation[];
  readonly calls: readonly ContractCall[];
}

/**
 * Reads route contracts relative to platform.yaml, collecting one positioned problem per unreadable
 * file instead of throwing, so a gate can report every problem at once.
 */
export class ContractReader {
  /** The problems found so far. */
  public readonly problems: ValidationError[] = [];
  /** Positions a message at a field of platform.yaml. */
  public readonly at: (path: FieldPath, message: string) => ValidationError;
  private readonly base: string;
  private readonly cache = new Map<string, RouteContract | undefined>();

  constructor(private readonly model: PlatformModel) {
    this.base = dirname(resolve(model.file));
    this.at = locator(model);
  }

  /** The contract in `file`; `undefined` (and a problem, unless `optional` and absent) when unreadable. */
  public read(file: string, field: FieldPath, owner: string, optional = false): RouteContract | undefined {
    const full = resolve(this.base, file);
    if (this.cache.has(full)) return this.cache.get(full);
    let contract: RouteContract | undefined;
    try {
      const doc: unknown = JSON.parse(readFileSync(full, 'utf8'));
      contract = { operations: contractOperations(doc), calls: contractCalls(doc) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (optional && code === 'ENOENT') return undefined;
      const why = code === 'ENOENT' ? 'not found' : (err as Error).message;
      this.problems.push(
        this.at(
          field,
          `${owner}'s route contract ${relative(process.cwd(), full) || full}: ${why}; run npm run contracts (kit services), or name the file with 'contract:'`,
        ),
      );
    }
    this.cache.set(full, contract);
    return contract;
  }

  /** A service's contract: `services.<svc>.contract`, default `services/<svc>/openapi.json`. */
  public service(name: string, optional = false): RouteContract | undefined {
    const svc = this.model.service(name);
    return this.read(
      svc.contract ?? `services/${svc.name}/openapi.json`,
      ['services', svc.name, ...(svc.contract ? ['contract'] : [])],
      svc.name,
      optional,
    );
  }
}

/**
 * The synth gate for the strangler routes. For every route, under the path handling the gateway
 * synthesizes (the path prefix rewritten to `servicePath`, everything else unchanged):
 *
 * - the service's contract has public operations under `servicePath`, and every operation under it
 *   with a routed method is public (a rule matches by prefix and method, so an operator operation
 *   there would be exposed);
 * - while the monolith keeps customers (weight < 100), it serves each of those operations under the
 *   public path, which it receives unchanged.
 *
 * Contracts are read relative to platform.yaml: `services.<svc>.contract`, default
 * `services/<svc>/openapi.json`; `legacy.monolith.contract`, default `services/monolith/openapi.json`.
 * A service without a contract whose routes are all at weight 0 (just scaffolded) gets no rules.
 *
 * @throws ValidationErrors with one positioned error per problem
 */
export function planGateway(model: PlatformModel): GatewayPlan {
  const reader = new ContractReader(model);
  const { problems, at } = reader;
  const load = (file: string, field: FieldPath, owner: string, optional = false) =>
    reader.read(file, field, owner, optional)?.operations;
  const monolithSpec = model.spec.legacy.monolith;
  const monolith = load(
    monolithSpec.contract ?? 'services/monolith/openapi.json',
    ['legacy', 'monolith', ...(monolithSpec.contract ? ['contract'] : [])],
    'the monolith',
  );
  const routes: RoutePlan[] = [];
  for (const svc of model.services) {
    if (svc.routes.length === 0) continue;
    // A just-scaffolded service (all routes at weight 0, no contract yet) moves nobody: no rules.
    const idle = svc.routes.every((r) => r.weight === 0) && !svc.contract;
    const ops = load(
      svc.contract ?? `services/${svc.name}/openapi.json`,
      ['services', svc.name, ...(svc.contract ? ['contract'] : [])],
      svc.name,
      idle,
    );
    if (!ops) continue;
    svc.routes.forEach((spec, i) => {
      const field: FieldPath = ['services', svc.name, 'routes', i];
      const r = model
        .routes()
        .find((m) => m.service === svc.name && m.path === normalizeRoutePath(spec.path))!;
      const servicePath = spec.servicePath ? normalizeRoutePath(spec.servicePath) : r.path;
      const received = spec.servicePath
        ? `${r.path} is rewritten to ${servicePath}`
        : `${r.path} is forwarded as is`;
      const under = ops.filter((o) => underPrefix(o.path, servicePath) !== undefined);
      const publicOps = under.filter((o) => o.public);
      if (publicOps.length === 0) {
        const elsewhere = [...new Set(ops.filter((o) => o.public).map((o) => o.path))].join(', ');
        problems.push(
          at(
            field,
            `route ${r.path}: ${svc.name} serves no public operation under ${servicePath} (${received}); its public operations are ${elsewhere || 'none'}: set 'servicePath' to the prefix it serves, or mark its routes public`,
          ),
        );
        return;
      }
      const methods = [...new Set(publicOps.map((o) => o.method))].sort();
      for (const o of under) {
        if (!o.public && methods.includes(o.method)) {
          problems.push(
            at(
              field,
              `route ${r.path}: ${o.method} ${o.path} of ${svc.name} is not public, but the route sends every ${o.method} under ${servicePath} to it; move the operator endpoint out of ${servicePath}`,
            ),
          );
        }
      }
      if (r.weight < 100 && monolith) {
        for (const o of publicOps) {
          const legacyPath = r.path.replace(/\/$/, '') + underPrefix(o.path, servicePath)!;
          const served = monolith.some(
            (m) => m.public && m.method === o.method && sameTemplate(m.path, legacyPath),
          );
          if (!served) {
            problems.push(
              at(
                field,
                `route ${r.path}: the monolith keeps ${100 - r.weight}% of customers but its contract has no public ${o.method} ${legacyPath}, which ${svc.name} serves as ${o.path}; add it to the monolith's contract or set the weight to 100`,
              ),
            );
          }
        }
      }
      routes.push({
        ...r,
        servicePath,
        methods,
        ownIdPaths: ownIdPaths(publicOps, servicePath, r.path),
        monolithOwnIdPaths: ownIdPaths(monolith?.filter((m) => m.public) ?? [], r.path, r.path),
      });
    });
  }
  if (problems.length > 0) throw new ValidationErrors(problems);
  routes.sort((a, b) => a.path.localeCompare(b.path));
  return {
    routes,
    monolithOperatorOps: (monolith ?? [])
      .filter((o) => !o.public)
      .map((o) => ({ method: o.method, path: templateRegex(o.path) })),
  };
}

/**
 * Anchored regexes over public paths for the own-id reads among `ops` under `prefix` (served at
 * `publicPath`): the last segment, the id, must match the operation's `ownIds` pattern.
 */
function ownIdPaths(ops: readonly ContractOperation[], prefix: string, publicPath: string): string[] {
  return ops
    .filter((o) => o.ownIds && o.method === 'GET' && underPrefix(o.path, prefix) !== undefined)
    .map((o) => {
      const regex = templateRegex(publicPath.replace(/\/$/, '') + underPrefix(o.path, prefix)!);
      return regex.replace(/\[\^\/\]\+\$$/, `(?:${o.ownIds})$`);
    });
}

/** Positions errors in platform.yaml when the model was read from a file that still parses. */
function locator(model: PlatformModel): (path: FieldPath, message: string) => ValidationError {
  let positions: SourcePositions | undefined;
  try {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(model.file, 'utf8'), { lineCounter: lines });
    positions = new SourcePositions(doc, lines);
  } catch {
    // a model built in code: the field path alone
  }
  return (path, message) =>
    new ValidationError(message, { file: model.file, ...positions?.valueAt(path), path: formatPath(path) });
}
