import type { SynthStep } from './synth-step.js';

/**
 * The synthesizers `aio synth` runs for each environment, in order. Each is loaded only when
 * synth runs, so `aio --help` stays fast.
 */
export async function loadSynthSteps(): Promise<SynthStep[]> {
  return [];
}
