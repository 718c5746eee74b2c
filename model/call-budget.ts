import { LineCounter, parseDocument } from 'yaml';
import type { PlatformModel, ServiceModel } from './platform-model.js';
import { TRANSPORT_RETRY_ON, type CallBudgetSpec, type TierPolicy } from './schema.js';
import { formatPath, SourcePositions, type FieldPath } from './source-positions.js';
import { renderValue, ValidationError, ValidationErrors } from './validation-error.js';

/** Which budget rule a problem breaks (`aio validate` prints the message, tests match the rule). */
export type BudgetRule =
  | 'declared'
  | 'retry-layers'
  | 'retry-product'
  | 'timeout-nesting'
  | 'per-try-timeout'
  | 'fallback'
  | 'outlier-detection';

/** One violation of the call budget, at a platform.yaml field. */
export interface BudgetProblem {
  readonly rule: BudgetRule;
  readonly path: FieldPath;
  readonly message: string;
  readonly got?: string;
}

/** `'500ms'`, `'2s'`, `'1m'` in milliseconds (the schema admits only these forms). */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new RangeError(`not a duration: ${d}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

/** Tries the mesh makes for one request to a service of this policy: the first plus its retries. */
export function meshTries(policy: TierPolicy): number {
  return policy.retries.on.length > 0 ? 1 + policy.retries.attempts : 1;
}

/**
 * Checks the retry and timeout budget over the `calls` graph, every problem at once:
 *
 * - every `calls` entry declares what the caller's code spends on it (`callBudgets.<callee>`);
 * - one retry layer: a caller that retries in its code (`attempts` > 1) calls a tier whose mesh
 *   retries only transport failures (`connect-failure`, `refused-stream`, `reset`);
 * - the product of attempts across layers (app × mesh tries) is at most `mesh.maxAttemptsPerCall`;
 * - a caller's own timeout (its mesh `timeout`, what its callers wait) exceeds what one call in a
 *   request may take: the callee's `timeout × attempts` (calls marked `background` run outside any
 *   request and are exempt);
 * - the app's timeout and the callee's mesh `perTryTimeout` agree: a try longer than the app's
 *   timeout is abandoned by the app before the mesh could retry or time it out;
 * - a critical service that calls a non-critical one declares `fallbacks.<callee>`;
 * - each service's outlier detection can eject at its minimum replicas without tripping Envoy's
 *   panic threshold (`minHealthPercent`), since Envoy ejects at least one host whatever
 *   `maxEjectionPercent` says, and in panic it balances across ejected hosts too.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 * @see https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier
 * @see https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold
 */
export function checkCallBudget(model: PlatformModel): BudgetProblem[] {
  const problems: BudgetProblem[] = [];
  const byName = new Map(model.services.map((s) => [s.name, s]));
  const limit = model.spec.mesh.maxAttemptsPerCall;
  for (const caller of model.services) {
    caller.calls.forEach((calleeName, i) => {
      const callee = byName.get(calleeName);
      if (!callee) return;
      const budget = caller.callBudgets[calleeName];
      const at = (...rest: PropertyKey[]): FieldPath => [
        'services',
        caller.name,
        'callBudgets',
        calleeName,
        ...rest,
      ];
      if (!budget) {
        problems.push({
          rule: 'declared',
          path: ['services', caller.name, 'calls', i],
          message: `calls '${calleeName}' without a budget; add services.${caller.name}.callBudgets.${calleeName}: { timeout: <the code's timeout>, attempts: <its attempts> }`,
          got: renderValue(calleeName),
        });
      } else {
        problems.push(...edgeProblems(caller, callee, budget, at, limit));
      }
      if (caller.tier === 'critical' && callee.tier === 'non-critical' && !caller.fallbacks[calleeName]) {
        problems.push({
          rule: 'fallback',
          path: ['services', caller.name, 'calls', i],
          message: `critical service '${caller.name}' calls non-critical '${calleeName}' without a fallback; add services.${caller.name}.fallbacks.${calleeName}: '<what it answers without ${calleeName}>'`,
          got: renderValue(calleeName),
        });
      }
    });
    for (const key of [...Object.keys(caller.callBudgets), ...Object.keys(caller.fallbacks)]) {
      if (!caller.calls.includes(key)) {
        const field = key in caller.callBudgets ? 'callBudgets' : 'fallbacks';
        problems.push({
          rule: 'declared',
          path: ['services', caller.name, field, key],
          message: `'${key}' is not in services.${caller.name}.calls; add it there or remove this entry`,
        });
      }
    }
    problems.push(...outlierProblems(caller));
  }
  return problems;
}

function edgeProblems(
  caller: ServiceModel,
  callee: ServiceModel,
  budget: CallBudgetSpec,
  at: (...rest: PropertyKey[]) => FieldPath,
  limit: number,
): BudgetProblem[] {
  const problems: BudgetProblem[] = [];
  const mesh = callee.tierPolicy;
  const tierAt = tierField(callee);
  const appMs = durationMs(budget.timeout);
  const responseRetries = mesh.retries.on.filter(
    (c) => !(TRANSPORT_RETRY_ON as readonly string[]).includes(c),
  );
  if (budget.attempts > 1 && mesh.retries.attempts > 0 && responseRetries.length > 0) {
    problems.push({
      rule: 'retry-layers',
      path: tierAt('retries', 'on'),
      message: `two retry layers on ${caller.name} → ${callee.name}: the code retries (${budget.attempts} attempts) and the ${callee.tier} tier's mesh retries on ${responseRetries.join(', ')} too; retry only on ${TRANSPORT_RETRY_ON.join(', ')} in the mesh`,
      got: renderValue(mesh.retries.on),
    });
  }
  const tries = meshTries(mesh);
  if (budget.attempts * tries > limit) {
    problems.push({
      rule: 'retry-product',
      path: at('attempts'),
      message: `one ${caller.name} call can reach ${callee.name} ${budget.attempts * tries} times (${budget.attempts} attempts × ${tries} mesh tries), over mesh.maxAttemptsPerCall (${limit}); lower the attempts here or the tier's retries.attempts`,
      got: renderValue(budget.attempts),
    });
  }
  const perTryMs = durationMs(mesh.retries.perTryTimeout);
  if (perTryMs > appMs) {
    problems.push({
      rule: 'per-try-timeout',
      path: tierAt('perTryTimeout'),
      message: `${callee.name}'s mesh perTryTimeout (${mesh.retries.perTryTimeout}) outlasts ${caller.name}'s timeout for it (${budget.timeout}): the code gives up before the mesh times a try out or retries it; set perTryTimeout to at most ${budget.timeout} (services.${callee.name}.mesh.perTryTimeout or the tier)`,
      got: renderValue(mesh.retries.perTryTimeout),
    });
  }
  if (!budget.background) {
    const ownMs = durationMs(caller.tierPolicy.timeout);
    const totalMs = appMs * budget.attempts;
    if (ownMs <= totalMs) {
      problems.push({
        rule: 'timeout-nesting',
        path: at('timeout'),
        message: `${caller.name}'s own timeout (${caller.tierPolicy.timeout}) does not exceed what its call to ${callee.name} may take (${budget.timeout} × ${budget.attempts} attempts = ${totalMs} ms); lower this timeout or the attempts, raise services.${caller.name}.mesh.timeout, or mark the call background: true if no request waits for it`,
        got: renderValue(budget.timeout),
      });
    }
  }
  return problems;
}

/** The platform.yaml field that sets `field` of a service's mesh policy: its own `mesh` or its tier. */
function tierField(
  svc: ServiceModel,
): (...field: ('retries' | 'on' | 'perTryTimeout' | 'timeout')[]) => FieldPath {
  return (...field) => {
    const name = field[field.length - 1]!;
    if (svc.mesh && (name === 'timeout' || name === 'perTryTimeout') && svc.mesh[name] !== undefined) {
      return ['services', svc.name, 'mesh', name];
    }
    if (name === 'perTryTimeout') return ['mesh', 'tiers', svc.tier, 'retries', 'perTryTimeout'];
    return ['mesh', 'tiers', svc.tier, ...field];
  };
}

/**
 * Hosts Envoy ejects at most from `hosts`: it ejects while the ejected share is below
 * `maxEjectionPercent`, so at least one host whatever the percentage.
 *
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto
 */
export function maxEjectedHosts(hosts: number, maxEjectionPercent: number): number {
  let ejected = 0;
  while (ejected < hosts && (ejected / hosts) * 100 < maxEjectionPercent) ejected++;
  return ejected;
}

function outlierProblems(svc: ServiceModel): BudgetProblem[] {
  const cb = svc.tierPolicy.circuitBreaker;
  const hosts = svc.replicas.min;
  const ejected = maxEjectedHosts(hosts, cb.maxEjectionPercent);
  const healthyPercent = ((hosts - ejected) / hosts) * 100;
  if (cb.minHealthPercent === 0 || healthyPercent >= cb.minHealthPercent) return [];
  return [
    {
      rule: 'outlier-detection',
      path: ['services', svc.name, 'replicas', 'min'],
      message:
        `the ${svc.tier} tier's outlier detection cannot fail fast at ${hosts} replica${hosts === 1 ? '' : 's'}: ` +
        `Envoy ejects up to ${ejected} (maxEjectionPercent ${cb.maxEjectionPercent}; it always ejects at least one host), leaving ` +
        `${Math.round(healthyPercent)} % healthy, below the panic threshold (minHealthPercent ${cb.minHealthPercent}), ` +
        `where it sends traffic to the ejected hosts anyway; ${outlierFix(cb.maxEjectionPercent, cb.minHealthPercent)}`,
      got: renderValue(hosts),
    },
  ];
}

/** What to change: the fewest replicas that keep `minHealthPercent` healthy, or the percentage. */
function outlierFix(maxEjectionPercent: number, minHealthPercent: number): string {
  for (let n = 2; n <= 10; n++) {
    if (((n - maxEjectedHosts(n, maxEjectionPercent)) / n) * 100 >= minHealthPercent) {
      return `raise replicas.min to ${n} or lower the tier's minHealthPercent`;
    }
  }
  return `lower the tier's maxEjectionPercent to ${100 - minHealthPercent} or less and run at least 2 replicas`;
}

/**
 * The budget gate of `aio validate`: {@link checkCallBudget} with each problem positioned in the
 * platform.yaml text it was read from.
 *
 * @throws ValidationErrors with every problem, sorted by line
 */
export function assertCallBudget(model: PlatformModel, text: string): void {
  const problems = checkCallBudget(model);
  if (problems.length === 0) return;
  const lines = new LineCounter();
  const positions = new SourcePositions(parseDocument(text, { lineCounter: lines }), lines);
  const errors = problems.map(
    (p) =>
      new ValidationError(
        `${p.message} [budget: ${p.rule}]`,
        { file: model.file, ...positions.valueAt(p.path), path: formatPath(p.path) },
        p.got,
      ),
  );
  errors.sort((a, b) => (a.location.line ?? 0) - (b.location.line ?? 0));
  throw new ValidationErrors(errors);
}
