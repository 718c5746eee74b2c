import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  stringify,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import { formatPath, SourcePositions, type FieldPath } from './source-positions.js';
import { ValidationError } from './validation-error.js';

/** A value {@link YamlSource} can write: scalars, lists and mappings of them. */
export type SourceValue = string | number | boolean | readonly SourceValue[] | SourceMapping;
/** A mapping {@link YamlSource} writes, in key order. */
export interface SourceMapping {
  readonly [key: string]: SourceValue;
}

/** Where a node is: mapping keys and list indexes, as `Document.getIn` takes them. */
export type SourcePath = readonly (string | number)[];

type Range = [number, number, number];
/** A node with its source range: start, value end, node end (comment included). */
export type Ranged = Node & { range?: Range | null };

/**
 * YAML text edited in place: the mechanism under `PlatformSourceEditor`.
 *
 * Every edit splices text at the source ranges of the `yaml` Document's nodes, so every other byte
 * (comments, blank lines, flow style, quoting, padding) stays as the user wrote it. Re-serializing
 * the Document instead would keep comments but re-flow flow mappings and line breaks. After each
 * edit the text is parsed again, so edits compose and offsets are never stale.
 *
 * @see https://eemeli.org/yaml/#documents
 * @see https://eemeli.org/yaml/#nodes (node `range`)
 */
export class YamlSource {
  private current: string;
  private parsed!: Document;
  private positions!: SourcePositions;

  /** @param file the name shown in messages */
  constructor(
    text: string,
    private readonly file = 'platform.yaml',
  ) {
    this.current = text;
    this.reparse();
  }

  /** The current text. */
  public get text(): string {
    return this.current;
  }

  /** The current text's Document (re-parsed after every edit). */
  public get doc(): Document {
    return this.parsed;
  }

  /** Appends `value` to the list at `path`, creating the key in its parent mapping when absent. */
  public appendToList(path: SourcePath, value: SourceValue): void {
    const parentPath = path.slice(0, -1);
    const key = path[path.length - 1]!;
    const parent = this.doc.getIn(parentPath, true) as Ranged | undefined;
    if (!isMap(parent) || !parent.range) throw this.error('must be a mapping', parentPath);
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
    const list = pair?.value as Ranged | null | undefined;
    const keyCol = this.columnOf((pair?.key as Ranged | undefined)?.range?.[0]);

    if (isSeq(list) && list.range && list.items.length > 0) {
      const last = list.items.at(-1) as Ranged;
      if (list.flow) {
        const close = this.current.lastIndexOf(']', list.range[1]);
        this.splice(close, close, `, ${flow(value)}`);
      } else {
        const dash = this.current.lastIndexOf('-', last.range![0]);
        const at = this.lineEnd(this.contentEnd(last.range![1]));
        this.splice(at, at, `\n${' '.repeat(this.columnOf(dash)!)}- ${flow(value)}`);
      }
      return;
    }
    if (isSeq(list) && list.range && keyCol !== undefined && !parent.flow) {
      // `routes: []` in a block mapping becomes a block list.
      let start = list.range[0];
      while (this.current[start - 1] === ' ') start--; // no trailing space after 'routes:'
      this.splice(start, list.range[1], `\n${' '.repeat(keyCol + 2)}- ${flow(value)}`);
      return;
    }
    if (isSeq(list) && list.range) {
      this.splice(list.range[0], list.range[1], `[${flow(value)}]`);
      return;
    }
    if (list !== undefined && list !== null) throw this.error('must be a list', path);
    this.addMapEntry(parentPath, String(key), [value]);
  }

  /**
   * Sets the single value at `path`, or adds it as `key: value` at the end of its parent mapping
   * when the key is absent. A list or mapping already there is refused: replacing one would have to
   * choose what to do with the comments inside it.
   */
  public set(path: SourcePath, value: SourceValue): void {
    const node = this.doc.getIn(path, true) as Ranged | null | undefined;
    if (node === undefined) return this.addMapEntry(path.slice(0, -1), String(path.at(-1)), value);
    if (!isScalar(node) || !node.range) {
      throw this.error('is a list or mapping; change it by hand, aio only sets single values', path);
    }
    this.splice(node.range[0], node.range[1], flow(value));
  }

  /** Adds `key: value` at the end of the mapping at `path`, in the mapping's own style. */
  public addMapEntry(path: SourcePath, key: string, value: SourceValue): void {
    const map = this.doc.getIn(path, true) as Ranged | undefined;
    if (!isMap(map) || !map.range) throw this.error('must be a mapping', path);
    if (map.flow) {
      const entry = `${scalar(key)}: ${flow(value)}`;
      if (map.items.length === 0) return this.splice(map.range[0], map.range[1], `{ ${entry} }`);
      let at = this.current.lastIndexOf('}', map.range[1]);
      while (/\s/.test(this.current[at - 1] ?? '')) at--;
      return this.splice(at, at, `, ${entry}`);
    }
    const indent = this.columnOf((map.items[0]?.key as Ranged | undefined)?.range?.[0]);
    if (indent === undefined) throw this.error(`has no keys to add '${key}' after`, path);
    const lines = blockLines({ [key]: value }, indent, 2);
    const at = this.lineEnd(this.contentEnd(this.lastValueEnd(map)));
    this.splice(at, at, `\n${lines.join('\n')}`);
  }

  /** Removes item `index` of the list at `path`; the last item leaves `[]`. */
  public removeListItem(path: SourcePath, index: number): void {
    const list = this.doc.getIn(path, true) as Ranged | undefined;
    if (!isSeq(list) || !list.range) throw this.error('must be a list', path);
    const item = list.items[index] as Ranged;
    const text = this.current;
    if (list.items.length === 1) {
      let start = list.range[0];
      while (/\s/.test(text[start - 1] ?? '') && text[start - 1] !== ':') start--;
      const end = list.flow ? list.range[1] : this.lineEnd(this.contentEnd(item.range![1]));
      this.splice(start, end, list.flow && text[start - 1] !== ':' ? '[]' : ' []');
      return;
    }
    if (list.flow) {
      const prev = list.items[index - 1] as Ranged | undefined;
      const next = list.items[index + 1] as Ranged | undefined;
      if (prev) this.splice(prev.range![1], item.range![1], '');
      else this.splice(item.range![0], next!.range![0], '');
      return;
    }
    const dash = text.lastIndexOf('-', item.range![0]);
    const start = text.lastIndexOf('\n', dash) + 1;
    const end = Math.min(this.lineEnd(this.contentEnd(item.range![1])) + 1, text.length);
    this.splice(start, end, '');
  }

  /** The `# comment` on the line where `node`'s value ends, with the spaces before it. */
  public trailingComment(node: Ranged): { start: number; end: number; text: string } | undefined {
    const from = node.range?.[1];
    if (from === undefined) return undefined;
    const end = this.lineEnd(from);
    const hash = this.current.indexOf('#', from);
    if (hash === -1 || hash >= end) return undefined;
    const between = this.current.slice(from, hash);
    if (!/^[\s,}\]]*$/.test(between)) return undefined; // a '#' inside later content, not a comment
    let start = hash;
    while (start > from && /[ \t]/.test(this.current[start - 1]!)) start--;
    return { start, end, text: this.current.slice(hash + 1, end).trim() };
  }

  /**
   * Adds `key:` with `fields` as a block after the last entry of the block mapping at `path`,
   * indented like the mapping's own entries and theirs, after a blank line and an optional
   * comment.
   */
  public addBlockEntry(path: SourcePath, key: string, fields: SourceMapping, comment?: string): void {
    const map = this.doc.getIn(path, true) as Ranged | undefined;
    if (!isMap(map) || map.flow) throw this.error('must be a block mapping', path);
    const first = map.items[0];
    const indent = this.columnOf((first?.key as Ranged | undefined)?.range?.[0]) ?? 2;
    const firstValue = first?.value;
    const innerKey = isMap(firstValue) && !firstValue.flow ? firstValue.items[0]?.key : undefined;
    const inner = this.columnOf((innerKey as Ranged | undefined)?.range?.[0]) ?? indent + 2;
    const lines = [''];
    if (comment) lines.push(`${' '.repeat(indent)}# ${comment}`);
    lines.push(`${' '.repeat(indent)}${scalar(key)}:`, ...blockLines(fields, inner, inner - indent));
    const last = map.items.at(-1)?.value as Ranged | null | undefined;
    const end = last?.range?.[2] ?? map.range?.[1];
    if (end === undefined) throw this.error(`cannot find the end of '${formatPath(path)}'`, path);
    const lineEnd = this.current.indexOf('\n', end - 1);
    const at = lineEnd === -1 ? this.current.length : lineEnd + 1;
    const head = at === this.current.length && !this.current.endsWith('\n') ? '\n' : '';
    this.splice(at, at, head + lines.join('\n') + '\n');
  }

  private lastValueEnd(map: YAMLMap): number {
    const last = map.items.at(-1)!;
    return ((last.value ?? last.key) as Ranged).range![1];
  }

  /** Replaces `start..end` with `insert` and parses the result again. */
  public splice(start: number, end: number, insert: string): void {
    this.current = this.current.slice(0, start) + insert + this.current.slice(end);
    this.reparse();
  }

  private reparse(): void {
    const lines = new LineCounter();
    this.parsed = parseDocument(this.current, { lineCounter: lines });
    this.positions = new SourcePositions(this.parsed, lines);
  }

  /**
   * The offset just after the last non-blank character before `offset`: a block collection's
   * value range ends after its final line break, which is the start of the next line.
   */
  private contentEnd(offset: number): number {
    let at = offset;
    while (at > 0 && /\s/.test(this.current[at - 1]!)) at--;
    return at;
  }

  private lineEnd(offset: number): number {
    const at = this.current.indexOf('\n', offset);
    return at === -1 ? this.current.length : at;
  }

  /** The 0-based column of `offset`. */
  public columnOf(offset: number | undefined): number | undefined {
    if (offset === undefined || offset < 0) return undefined;
    return offset - (this.current.lastIndexOf('\n', offset - 1) + 1);
  }

  /** A ValidationError in this file, at the value of `path` (or its nearest ancestor). */
  public error(message: string, path?: FieldPath): ValidationError {
    if (!path) return new ValidationError(message, { file: this.file });
    return new ValidationError(message, {
      file: this.file,
      ...this.positions.valueAt(path),
      path: formatPath(path),
    });
  }
}

export function scalar(value: string | number | boolean): string {
  return stringify(value).trimEnd();
}

/** A value on one line: `[a, b]`, `{ path: /x, weight: 0 }`. */
export function flow(value: SourceValue): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as SourceMapping);
    return entries.length ? `{ ${entries.map(([k, v]) => `${scalar(k)}: ${flow(v)}`).join(', ')} }` : '{}';
  }
  return scalar(value as string | number | boolean);
}

/**
 * A mapping as block lines at `indent`: scalars and lists of scalars on one line, lists of
 * mappings as `- { ... }` items, nested mappings indented by `step`.
 */
function blockLines(fields: SourceMapping, indent: number, step: number): string[] {
  const pad = ' '.repeat(indent);
  return Object.entries(fields).flatMap(([key, value]) => {
    if (Array.isArray(value) && value.some((v) => typeof v === 'object' && !Array.isArray(v))) {
      return [`${pad}${scalar(key)}:`, ...value.map((v) => `${pad}  - ${flow(v as SourceValue)}`)];
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      const nested = value as SourceMapping;
      if (Object.keys(nested).length === 0) return [`${pad}${scalar(key)}: {}`];
      return [`${pad}${scalar(key)}:`, ...blockLines(nested, indent + step, step)];
    }
    return [`${pad}${scalar(key)}: ${flow(value)}`];
  });
}
