import type { GateFinding } from '../../synth/synth-step.js';

/** A finding of one of the Kubernetes gates. */
export function finding(
  gate: 'k8s-schema' | 'k8s-policy',
  rule: string,
  path: string,
  message: string,
  level: GateFinding['level'] = 'error',
): GateFinding {
  return { gate, rule, path, message, level };
}

/** Renders a JSON pointer-ish path as `spec.template.spec.containers[0].image`. */
export function fieldPath(parts: readonly (string | number)[]): string {
  return parts.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p),
    '',
  );
}
