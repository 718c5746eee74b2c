import type { SynthStep } from './synth-step.js';

/**
 * The synthesizers `aio synth` runs for each environment, in order. Each is loaded only when
 * synth runs, so `aio --help` stays fast.
 */
export async function loadSynthSteps(): Promise<SynthStep[]> {
  // CloudFormation first: the Kubernetes manifests refer to names the AWS layer creates.
  const { cloudFormationStep } = await import('../constructs/synth-step.js');
  // Kubernetes after it: its manifests use those names, and its credential scan covers all of <env>/.
  const { kubernetesStep } = await import('../charts/synth-step.js');
  return [cloudFormationStep, kubernetesStep];
}
