import type { PlatformModel } from './platform-model.js';
import {
  ContractReader,
  planGateway,
  sameTemplate,
  underPrefix,
  type ContractOperation,
  type GatewayPlan,
} from './route-contracts.js';
import { ValidationErrors } from './validation-error.js';
import { naming } from './naming.js';

/** One operation a principal may call on a service: what an AuthorizationPolicy `to.operation` allows. */
export interface MeshOperation {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** OpenAPI path template as the service receives it (`/orders/{orderId}`). */
  readonly path: string;
}

/** Who may call what on one service, derived from platform.yaml and the route contracts. */
export interface ServiceMeshPlan {
  readonly service: string;
  /** The public operations the gateway routes to it, under the path it receives (`servicePath`). */
  readonly gateway: readonly MeshOperation[];
  /** By caller (a service whose `calls` names this one): the operations its contract says it calls. */
  readonly callers: Readonly<Record<string, readonly MeshOperation[]>>;
  /**
   * Everything else in its contract: operator endpoints (stock writes, `/sagas*`, `/metrics`,
   * `/openapi.json`, probes). Only `mesh.operators` may call them.
   */
  readonly operator: readonly MeshOperation[];
}

/** The mesh's authorization model: one entry per service, in platform.yaml order. */
export interface MeshPlan {
  readonly services: readonly ServiceMeshPlan[];
}

const byPathThenMethod = (a: MeshOperation, b: MeshOperation) =>
  a.path.localeCompare(b.path) || a.method.localeCompare(b.method);

/**
 * Who may call what, per service:
 *
 * - the gateway: exactly the public operations (`x-aio-public`) under each route's `servicePath`,
 *   the prefix the gateway rewrites the public path to (the same plan the HTTPRoutes come from);
 * - each caller in `calls`: exactly the operations its own contract declares under `x-aio-calls`
 *   (the kit's `declareCalls`, fed by the code that makes the calls, e.g. the order saga's
 *   `PLACE_ORDER_CALLS`), each of which must exist in the callee's contract;
 * - the rest of the contract is operator-only.
 *
 * Refused, with a position in platform.yaml: a `calls` entry whose caller declares no operation
 * on that callee (the mesh would deny every call), a declared call to a service `calls` does not
 * name, and a declared operation the callee's contract does not have.
 *
 * @throws ValidationErrors with one positioned error per problem
 */
export function planMesh(model: PlatformModel, gateway: GatewayPlan = planGateway(model)): MeshPlan {
  const reader = new ContractReader(model);
  const { problems, at } = reader;
  const calledBy = new Map<string, Record<string, MeshOperation[]>>();
  for (const caller of model.services) {
    if (caller.calls.length === 0) continue;
    const declared = reader.service(caller.name)?.calls;
    if (!declared) continue;
    for (const c of declared) {
      if (!caller.calls.includes(c.service)) {
        problems.push(
          at(
            ['services', caller.name, 'calls'],
            `${caller.name}'s route contract declares ${c.method} ${c.path} on ${c.service}, but 'calls' does not name ${c.service}: add it to 'calls' (or stop calling it)`,
          ),
        );
      }
    }
    caller.calls.forEach((callee, i) => {
      const ops = declared.filter((c) => c.service === callee);
      if (ops.length === 0) {
        problems.push(
          at(
            ['services', caller.name, 'calls', i],
            `${caller.name} calls ${callee}, but its route contract declares no ${callee} operation ('x-aio-calls'), so the mesh would deny every call: declare them with the kit's declareCalls and run npm run contracts`,
          ),
        );
        return;
      }
      // the legacy monolith is outside the mesh (a MESH_EXTERNAL ServiceEntry): no policy of ours
      // guards it, so its declared operations feed no AuthorizationPolicy
      if (callee === naming.monolithService && !model.services.some((s) => s.name === callee)) return;
      const calleeOps = reader.service(callee)?.operations;
      if (!calleeOps) return;
      for (const o of ops) {
        if (!calleeOps.some((x) => x.method === o.method && sameTemplate(x.path, o.path))) {
          problems.push(
            at(
              ['services', caller.name, 'calls', i],
              `${caller.name} declares ${o.method} ${o.path} on ${callee}, which ${callee}'s route contract does not have; its operations are ${calleeOps.map((x) => `${x.method} ${x.path}`).join(', ')}`,
            ),
          );
        }
      }
      const byCaller = calledBy.get(callee) ?? {};
      byCaller[caller.name] = ops.map(({ method, path }) => ({ method, path })).sort(byPathThenMethod);
      calledBy.set(callee, byCaller);
    });
  }

  const services: ServiceMeshPlan[] = model.services.map((svc) => {
    const routes = gateway.routes.filter((r) => r.service === svc.name);
    const contract = reader.service(svc.name, true);
    const ops: readonly ContractOperation[] = contract?.operations ?? [];
    const viaGateway = ops.filter(
      (o) => o.public && routes.some((r) => underPrefix(o.path, r.servicePath) !== undefined),
    );
    const callers = calledBy.get(svc.name) ?? {};
    const called = Object.values(callers).flat();
    const operator = ops.filter(
      (o) =>
        !viaGateway.includes(o) && !called.some((c) => c.method === o.method && sameTemplate(c.path, o.path)),
    );
    const plain = (list: readonly ContractOperation[]) =>
      list.map(({ method, path }) => ({ method, path })).sort(byPathThenMethod);
    return { service: svc.name, gateway: plain(viaGateway), callers, operator: plain(operator) };
  });
  if (problems.length > 0) throw new ValidationErrors(problems);
  return { services };
}

/**
 * An OpenAPI path template as an Istio AuthorizationPolicy path: each `{param}` becomes `{*}`, which
 * matches exactly one path segment (Istio 1.22+ URI templates; the platform pins 1.27). Istio
 * compares the normalized path without its query string, so `/orders?customerId=a` matches `/orders`.
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation
 * @see https://istio.io/latest/news/releases/1.22.x/announcing-1.22/#path-templating-in-authorization-policy
 * @see https://istio.io/latest/docs/reference/config/security/normalization/
 */
export function istioPath(template: string): string {
  return template.replace(/\{[^}]+\}/g, '{*}');
}
