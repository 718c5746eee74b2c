import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformModel } from '../model/index.js';
import { loadSynthSteps } from './steps.js';
import type { GateFinding, SynthStep } from './synth-step.js';

/** Options for {@link synthesizePlatform}. */
export interface SynthesizeOptions {
  /** Environments to synthesize. @default - every environment in the model */
  readonly envs?: readonly string[];
  /** Output root; each environment goes to `<outDir>/<env>`. @default 'dist' */
  readonly outDir?: string;
  /** Receives one line per step. @default - silent */
  readonly onProgress?: (line: string) => void;
  /** Steps to run. @default - the registered synthesizers (CloudFormation, Kubernetes) */
  readonly steps?: readonly SynthStep[];
}

/** One environment's line of the summary table. */
export interface EnvironmentSummary {
  readonly env: string;
  readonly stacks: number;
  readonly resources: number;
  readonly manifests: number;
  readonly seconds: number;
  readonly files: readonly string[];
}

/** What a whole synth produced. */
export interface SynthSummary {
  readonly outDir: string;
  readonly environments: readonly EnvironmentSummary[];
  readonly findings: readonly (GateFinding & { readonly env: string })[];
  /** True when no gate reported an error. */
  readonly ok: boolean;
}

/**
 * Synthesizes the platform for each environment into `<outDir>/<env>/`, in-process.
 */
export async function synthesizePlatform(
  model: PlatformModel,
  options: SynthesizeOptions = {},
): Promise<SynthSummary> {
  const outDir = options.outDir ?? 'dist';
  const envs = (options.envs ?? model.environments.map((e) => e.name)).map((n) => model.environment(n));
  const progress = options.onProgress ?? (() => undefined);
  const steps = options.steps ?? (await loadSynthSteps());

  const environments: EnvironmentSummary[] = [];
  const findings: (GateFinding & { env: string })[] = [];
  for (const env of envs) {
    const started = performance.now();
    const envDir = join(outDir, env.name);
    mkdirSync(envDir, { recursive: true });
    let stacks = 0;
    let resources = 0;
    let manifests = 0;
    const files: string[] = [];
    for (const step of steps) {
      const stepStarted = performance.now();
      progress(`${env.name}: ${step.name}: synthesizing`);
      const result = await step.run({
        model,
        env,
        envDir,
        progress: (line) => progress(`${env.name}: ${step.name}: ${line}`),
      });
      stacks += result.stacks ?? 0;
      resources += result.resources ?? 0;
      manifests += result.manifests ?? 0;
      files.push(...result.files);
      findings.push(...result.findings.map((f) => ({ ...f, env: env.name })));
      const errors = result.findings.filter((f) => f.level === 'error').length;
      const secs = ((performance.now() - stepStarted) / 1000).toFixed(1);
      progress(`${env.name}: ${step.name}: done in ${secs}s${errors ? `, ${errors} gate error(s)` : ''}`);
    }
    environments.push({
      env: env.name,
      stacks,
      resources,
      manifests,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      files,
    });
  }
  return { outDir, environments, findings, ok: !findings.some((f) => f.level === 'error') };
}
