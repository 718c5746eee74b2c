import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { ValidationError } from '../../model/validation-error.js';

/** Parses a Kubernetes CPU quantity (`250m`, `1`, `0.5`) for cdk8s-plus. */
export function parseCpu(quantity: string, field: string): Cpu {
  const m = /^(\d+)m$/.exec(quantity);
  if (m) return Cpu.millis(Number(m[1]));
  if (/^\d+(\.\d+)?$/.test(quantity)) return Cpu.millis(Math.round(Number(quantity) * 1000));
  throw new ValidationError(`${field}: must be a CPU quantity such as '250m' or '1', got '${quantity}'`);
}

/** Parses a Kubernetes memory quantity (`256Mi`, `1Gi`, `512Ki`) for cdk8s-plus. */
export function parseMemory(quantity: string, field: string): Size {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!m) throw new ValidationError(`${field}: must be a memory quantity such as '256Mi', got '${quantity}'`);
  const n = Number(m[1]);
  return m[2] === 'Ki' ? Size.kibibytes(n) : m[2] === 'Mi' ? Size.mebibytes(n) : Size.gibibytes(n);
}
