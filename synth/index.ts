export * from './synth-step.js';
export * from './synthesize.js';
