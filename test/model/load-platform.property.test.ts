import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { parsePlatform, PlatformModel, ValidationErrors } from '../../model/index.js';
import { REFERENCE_YAML } from './fixtures.js';

/** Either a model, or ValidationErrors whose every entry carries a position. Anything else fails. */
function expectLoadsOrExplains(text: string): void {
  let result: unknown;
  try {
    result = parsePlatform(text);
  } catch (err) {
    if (!(err instanceof ValidationErrors)) throw err;
    expect(err.errors.length).toBeGreaterThan(0);
    for (const e of err.errors) {
      expect(e.location.line).toBeGreaterThanOrEqual(1);
      expect(e.location.col).toBeGreaterThanOrEqual(1);
      expect(e.message).toMatch(/^platform\.yaml:\d+:\d+: /);
      expect(e.message).not.toMatch(/\.$/);
    }
    return;
  }
  expect(result).toBeInstanceOf(PlatformModel);
}

const lines = REFERENCE_YAML.split('\n');
const reference = parse(REFERENCE_YAML) as Record<string, unknown>;

/** Every path to a value in the reference document. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}
const allPaths = paths(reference).filter((p) => p.length > 0);

function setIn(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return copy;
}

describe('parsePlatform under random input', () => {
  test('never crashes on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => expectLoadsOrExplains(text)),
      { numRuns: 300 },
    );
  });

  test('never crashes on arbitrary YAML documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => expectLoadsOrExplains(stringify(value))),
      { numRuns: 200 },
    );
  });

  test('never crashes when a field of the reference file is replaced or removed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...allPaths),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
        fc.boolean(),
        (path, value, remove) => expectLoadsOrExplains(stringify(setIn(reference, path, value, remove))),
      ),
      { numRuns: 300 },
    );
  });

  test('never crashes when lines of the reference file are deleted, duplicated or garbled', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.constantFrom('delete', 'duplicate', 'insert'),
        fc.string({ maxLength: 8 }),
        fc.nat(),
        (index, op, garbage, at) => {
          const copy = [...lines];
          const line = copy[index]!;
          if (op === 'delete') copy.splice(index, 1);
          else if (op === 'duplicate') copy.splice(index, 0, line);
          else {
            const pos = line.length === 0 ? 0 : at % line.length;
            copy[index] = line.slice(0, pos) + garbage + line.slice(pos);
          }
          expectLoadsOrExplains(copy.join('\n'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
