import type { Command } from 'commander';
import type { GameDayFault } from '../charts/fault-injection.js';
import type { CliIo } from './cli-io.js';
import { readDevState } from './dev-state.js';
import { PLATFORM_FILE_FLAG, readPlatform } from './platform-file.js';

/** Options of `aio chaos`. */
export interface ChaosOptions {
  readonly file: string;
  /** `N%`: abort that share of requests. */
  readonly abort?: string;
  /** HTTP status of an abort. */
  readonly status: string;
  /** A duration: delay requests by it. */
  readonly delay?: string;
  /** `N%`: the share of requests delayed. */
  readonly percent: string;
  /** Accept every request and never answer. */
  readonly blackhole?: boolean;
  /** Clear the local fault (with `--local`). */
  readonly clear?: boolean;
  /** The environment the VirtualService is for. */
  readonly env?: string;
  /** Allow a production environment. */
  readonly allowProd?: boolean;
  /** Write the VirtualService there instead of stdout. */
  readonly out?: string;
  /** Drive the running `aio dev` stack's fault proxy instead. */
  readonly local?: boolean;
  /** `aio dev --base-port` of the stack to drive. */
  readonly basePort: string;
}

/** `aio chaos <service>`: a fault-injection VirtualService for a game day, or the same fault in `aio dev`. */
export function registerChaos(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('chaos')
    .description(
      "inject a fault into a service for a game day: an Istio fault-injection VirtualService for a staging environment, or, with --local, the running aio dev stack's fault proxy",
    )
    .argument('<service>', 'the service that fails')
    .option('--abort <percent>', "answer that share of requests with --status, e.g. '50%'")
    .option('--status <code>', 'HTTP status of --abort', '503')
    .option('--delay <duration>', "hold requests that long before they reach the service, e.g. '2s'")
    .option('--percent <percent>', 'share of requests --delay holds', '100%')
    .option('--blackhole', 'accept every request and never answer (callers see their own timeouts)')
    .option('--clear', 'with --local: remove the fault')
    .option('--env <env>', 'environment of the VirtualService (default: the only non-production one)')
    .option('--allow-prod', 'allow a production environment (name prod/production, or size ha)')
    .option('-o, --out <file>', 'write the VirtualService to this file instead of stdout')
    .option('--local', 'inject the fault into the running aio dev stack (aio dev --faults <service>)')
    .option('--base-port <port>', 'with --local: the --base-port of that aio dev', '8080')
    .option(...PLATFORM_FILE_FLAG)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  aio chaos review --abort 50%                  # VirtualService on stdout, for the staging environment',
        '  aio chaos review --delay 2s --env dev -o review-chaos.yaml',
        "  kubectl apply -f review-chaos.yaml            # replaces review's VirtualService; undo: apply dist/dev/k8s/02-mesh-policy.yaml",
        '  aio dev --faults review                       # then, in another terminal:',
        '  aio chaos review --local --blackhole',
        '  aio chaos review --local --clear',
      ].join('\n'),
    )
    .action(async (service: string, opts: ChaosOptions) => done(await chaosCommand(io, service, opts)));
}

/**
 * Runs `aio chaos`. Usage errors (no fault or two, a bad percentage or duration, an unknown
 * service, a production environment without `--allow-prod`) exit 2; a schema gate finding or no
 * running `aio dev` exits 1.
 */
export async function chaosCommand(io: CliIo, service: string, opts: ChaosOptions): Promise<number> {
  const { UsageError, ValidationError } = await import('../model/validation-error.js');
  const fault = opts.clear ? undefined : parseFault(opts, UsageError);
  if (opts.clear && !opts.local)
    throw new UsageError(
      '--clear: only with --local (a cluster fault is undone by applying dist/<env>/k8s/02-mesh-policy.yaml again)',
    );
  if (opts.local) return localChaos(io, service, fault, opts);

  const model = await readPlatform(io, opts.file);
  const names = model.services.map((s) => s.name);
  if (!names.includes(service)) {
    const { nearestName } = await import('../model/nearest-name.js');
    const near = nearestName(service, names);
    throw new UsageError(
      `<service>: '${service}' is not a service of ${model.file}${near ? `; did you mean '${near}'?` : `; known services are ${names.join(', ')}`}`,
    );
  }
  const env = pickEnvironment(model.environments, opts, UsageError);
  const { faultInjectionVirtualService, describeFault } = await import('../charts/fault-injection.js');
  const { validateSchemas } = await import('../charts/validation/schema-gate.js');
  const vs = faultInjectionVirtualService(model, service, fault!);
  const findings = await validateSchemas([vs]);
  if (findings.length > 0) {
    throw new ValidationError(
      `the fault-injection VirtualService fails the schema gate: ${findings.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
    );
  }
  const { stringify } = await import('yaml');
  const text =
    `# aio chaos ${service}: ${describeFault(fault!)} in ${env}. It replaces the VirtualService ${service} ` +
    `that aio synth wrote;\n# undo with: kubectl apply -f dist/${env}/k8s/02-mesh-policy.yaml (or an Argo CD sync)\n` +
    stringify(vs);
  if (opts.out) {
    const { writeFile } = await import('node:fs/promises');
    const { resolve } = await import('node:path');
    await writeFile(resolve(io.cwd, opts.out), text);
    io.err(`chaos: wrote ${opts.out} (${service}, ${describeFault(fault!)}, environment ${env})`);
  } else {
    io.out(text);
  }
  return 0;
}

/** The fault the flags ask for; exactly one of --abort, --delay, --blackhole. */
function parseFault(opts: ChaosOptions, UsageError: new (m: string) => Error): GameDayFault {
  const given = [opts.abort !== undefined, opts.delay !== undefined, opts.blackhole === true].filter(Boolean);
  if (given.length !== 1) {
    throw new UsageError(
      `give exactly one fault: --abort <percent>, --delay <duration> or --blackhole${given.length > 1 ? ' (got several)' : ''}; see aio chaos --help`,
    );
  }
  const percent = (flag: string, v: string) => {
    const m = /^(\d+(?:\.\d+)?)%?$/.exec(v);
    const n = m ? Number(m[1]) : NaN;
    if (!(n > 0 && n <= 100))
      throw new UsageError(`${flag}: must be a percentage above 0 and at most 100 such as '50%', got '${v}'`);
    return n;
  };
  if (opts.abort !== undefined) {
    const status = Number(opts.status);
    if (!/^\d{3}$/.test(opts.status) || status < 200 || status > 599) {
      throw new UsageError(`--status: must be an HTTP status from 200 to 599, got '${opts.status}'`);
    }
    return { kind: 'abort', percent: percent('--abort', opts.abort), status };
  }
  if (opts.delay !== undefined) {
    const m = /^(\d+)(ms|s|m)$/.exec(opts.delay);
    if (!m || Number(m[1]) === 0) {
      throw new UsageError(`--delay: must be a duration such as '500ms', '2s' or '1m', got '${opts.delay}'`);
    }
    const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
    return { kind: 'delay', ms, percent: percent('--percent', opts.percent) };
  }
  return { kind: 'blackhole' };
}

/** `--env`, or the only non-production environment; production only with `--allow-prod`. */
function pickEnvironment(
  envs: readonly { name: string; size: string }[],
  opts: ChaosOptions,
  UsageError: new (m: string) => Error,
): string {
  const isProd = (e: { name: string; size: string }) => /^prod(uction)?$/.test(e.name) || e.size === 'ha';
  if (opts.env !== undefined) {
    const env = envs.find((e) => e.name === opts.env);
    if (!env)
      throw new UsageError(
        `--env: '${opts.env}' is not an environment; known are ${envs.map((e) => e.name).join(', ')}`,
      );
    if (isProd(env) && !opts.allowProd) {
      throw new UsageError(
        `--env: '${env.name}' is a production environment; game days run in staging. Pass --allow-prod to inject faults there anyway`,
      );
    }
    return env.name;
  }
  const staging = envs.filter((e) => !isProd(e));
  if (staging.length !== 1) {
    throw new UsageError(
      `--env: required, ${staging.length === 0 ? 'no environment is non-production' : `several are non-production (${staging.map((e) => e.name).join(', ')})`}`,
    );
  }
  return staging[0]!.name;
}

/** Sets (or clears) the fault on the running `aio dev` stack's proxy in front of `service`. */
async function localChaos(
  io: CliIo,
  service: string,
  fault: GameDayFault | undefined,
  opts: ChaosOptions,
): Promise<number> {
  const { ValidationError } = await import('../model/validation-error.js');
  const state = await readDevState(opts.basePort, io.env);
  const url = state.faults[service];
  if (!url) {
    const listed = Object.keys(state.faults);
    throw new ValidationError(
      `'${service}' has no fault proxy in the aio dev on base port ${opts.basePort} (${listed.length ? `proxied: ${listed.join(', ')}` : 'none is proxied'}); restart it with aio dev --faults ${service}`,
    );
  }
  const { FAULT_CONTROL_PATH } = await import('@aio/stack');
  const body = fault === undefined ? undefined : JSON.stringify(localFault(fault));
  const res = await fetch(`${url}${FAULT_CONTROL_PATH}`, {
    method: body === undefined ? 'DELETE' : 'PUT',
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
  }).catch((err: unknown) => {
    throw new ValidationError(
      `the fault proxy of '${service}' at ${url} does not answer (${String(err)}); is aio dev still running?`,
    );
  });
  if (!res.ok)
    throw new ValidationError(`the fault proxy refused the fault: ${res.status} ${await res.text()}`);
  const { describeFault } = await import('../charts/fault-injection.js');
  io.out(
    `${service}: ${fault ? describeFault(fault) : 'no fault'} (aio dev on base port ${opts.basePort}, proxy ${url})`,
  );
  return 0;
}

/** The fault proxy's JSON for a fault (services/stack/src/fault-proxy.ts `Fault`). */
function localFault(fault: GameDayFault) {
  return fault.kind === 'delay' ? { kind: 'delay', ms: fault.ms, percent: fault.percent } : fault;
}
