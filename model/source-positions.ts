import type { LineCounter } from 'yaml';
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';

/** A field path as zod and the YAML Document API both understand it. */
export type FieldPath = readonly PropertyKey[];

/**
 * Maps field paths of a parsed YAML document to 1-based line:col positions.
 */
export class SourcePositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * The position of the value at `path`, or of its nearest existing ancestor when the field is
   * missing (so "is required" points at the mapping that lacks it).
   */
  public valueAt(path: FieldPath): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.nodeAt(path.slice(0, n));
      if (node?.range) return this.lines.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }

  /** The position of the key `key` inside the mapping at `path` (for unknown-key errors). */
  public keyAt(path: FieldPath, key: string): { line: number; col: number } {
    const map = this.nodeAt(path);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
          return this.lines.linePos(pair.key.range[0]);
        }
      }
    }
    return this.valueAt(path);
  }

  /** The raw value the user wrote at `path`, or `undefined` if there is none. */
  public rawAt(path: FieldPath): unknown {
    const node = this.nodeAt(path);
    if (node === undefined) return undefined;
    if (isScalar(node)) return node.value;
    return (node as Node).toJSON();
  }

  private nodeAt(path: FieldPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        node = pair?.value ?? undefined;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
      } else {
        return undefined;
      }
    }
    return (node ?? undefined) as Node | undefined;
  }
}

/** Renders a field path in the house style: `services.order.routes[0].weight`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += (out ? '.' : '') + String(key);
  }
  return out;
}
