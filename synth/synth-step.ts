import type { EnvironmentModel, PlatformModel } from '../model/index.js';

/** One environment to synthesize. */
export interface SynthTarget {
  readonly model: PlatformModel;
  readonly env: EnvironmentModel;
  /** `<out>/<env>`: each step writes only inside its own subfolder of it. */
  readonly envDir: string;
  /** Prints a progress line for a long sub-step. */
  readonly progress: (line: string) => void;
}

/** A problem found by a gate (cdk-nag, CloudFormation rules, Kubernetes schemas, policy). */
export interface GateFinding {
  /** The gate: `cdk-nag`, `cfn-validation`, `k8s-schema`, `k8s-policy`. */
  readonly gate: string;
  /** The rule id, e.g. `AwsSolutions-IAM5` or `pss-restricted`. */
  readonly rule: string;
  /** Where: a construct path, or `kind/namespace/name` and a field. */
  readonly path: string;
  readonly message: string;
  readonly level: 'error' | 'warning';
}

/** What a step produced, for the summary table. */
export interface SynthStepResult {
  readonly stacks?: number;
  readonly resources?: number;
  readonly manifests?: number;
  /** Files written, relative to `envDir`. */
  readonly files: readonly string[];
  readonly findings: readonly GateFinding[];
}

/**
 * A synthesizer that `aio synth` runs for each environment, in order.
 *
 * Steps are in-process: no child `cdk` process.
 */
export interface SynthStep {
  /** Short name for progress lines: `cloudformation`, `k8s`. */
  readonly name: string;
  run(target: SynthTarget): Promise<SynthStepResult>;
}
