import { App } from 'cdk8s';
import type { PlatformModel } from '../model/platform-model.js';
import type { KubeObject } from './apply-order.js';
import { MeshChart } from './mesh-chart.js';

/**
 * A game-day fault on one service, as `aio chaos` takes it and the local stack's fault proxy
 * injects it (services/stack/src/fault-proxy.ts has the same three kinds):
 * - `abort`: `percent` % of requests answered `status` without reaching the service;
 * - `delay`: `percent` % of requests held `ms` before they are forwarded;
 * - `blackhole`: every request held and never answered.
 */
export type GameDayFault =
  | { readonly kind: 'abort'; readonly percent: number; readonly status: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly percent: number }
  | { readonly kind: 'blackhole' };

/**
 * Istio has no blackhole fault: it is a delay longer than any caller waits. An hour outlasts every
 * timeout the budget gate admits (each caller's timeout covers its callees'), and the fault filter
 * runs before the router, so the route's own timeout does not cut it short.
 */
export const BLACKHOLE_DELAY = '3600s';

/** The annotation that marks a fault-injection VirtualService and says what it injects. */
export const CHAOS_ANNOTATION = 'aio.dev/chaos';

/** Istio's `HTTPFaultInjection` for a fault. */
export function istioFault(fault: GameDayFault): Record<string, unknown> {
  switch (fault.kind) {
    case 'abort':
      return { abort: { httpStatus: fault.status, percentage: { value: fault.percent } } };
    case 'delay':
      return { delay: { fixedDelay: `${fault.ms}ms`, percentage: { value: fault.percent } } };
    case 'blackhole':
      return { delay: { fixedDelay: BLACKHOLE_DELAY, percentage: { value: 100 } } };
  }
}

/** One line describing a fault: `abort 50 % with 503`, `delay 2000 ms on 100 %`, `blackhole`. */
export function describeFault(fault: GameDayFault): string {
  switch (fault.kind) {
    case 'abort':
      return `abort ${fault.percent} % with ${fault.status}`;
    case 'delay':
      return `delay ${fault.ms} ms on ${fault.percent} %`;
    case 'blackhole':
      return 'blackhole (accept, never answer)';
  }
}

/**
 * The service's VirtualService as `aio synth` writes it (same name, namespace and route), with
 * `fault` on each HTTP route and without its timeout and retries, which Istio disables on a faulted
 * route (HTTPRoute `fault`). It replaces the synthesized one while applied:
 * sidecars do not merge two VirtualServices of one host, so a second object would be ignored or
 * conflict. Restoring is applying `dist/<env>/k8s/02-mesh-policy.yaml` again (or an Argo CD sync).
 * The fault is injected in the callers' sidecars, so it hits every caller in the mesh (Kong included).
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/fault-injection/
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPFaultInjection
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
 */
export function faultInjectionVirtualService(
  model: PlatformModel,
  service: string,
  fault: GameDayFault,
): KubeObject {
  model.service(service); // throws, naming the known services
  const objects = new MeshChart(new App(), 'mesh', MeshChart.propsFromModel(model)).toJson() as KubeObject[];
  const vs = objects.find(
    (o) => o.kind === 'VirtualService' && (o.metadata as { name?: string } | undefined)?.name === service,
  );
  if (!vs) throw new Error(`the mesh chart synthesized no VirtualService for '${service}'`);
  const copy = structuredClone(vs) as KubeObject & {
    metadata: { annotations?: Record<string, string> };
    spec: { http: Record<string, unknown>[] };
  };
  copy.metadata.annotations = { ...copy.metadata.annotations, [CHAOS_ANNOTATION]: describeFault(fault) };
  // Istio: "timeouts or retries will not be enabled when faults are enabled on the client side",
  // so the faulted route drops them rather than pretend; callers see their own timeouts only.
  copy.spec.http = copy.spec.http.map((route) => {
    const { timeout, retries, ...rest } = route;
    void timeout;
    void retries;
    return { ...rest, fault: istioFault(fault) };
  });
  return copy;
}
