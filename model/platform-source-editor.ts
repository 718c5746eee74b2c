import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  stringify,
  type Document,
  type YAMLMap,
  type Node,
} from 'yaml';
import { normalizeRoutePath } from './route-path.js';
import { formatPath, SourcePositions, type FieldPath } from './source-positions.js';
import { ValidationError } from './validation-error.js';

/** A value the editor can write: scalars, lists and mappings of them. */
export type SourceValue = string | number | boolean | readonly SourceValue[] | SourceMapping;
/** A mapping the editor writes, in key order. */
export interface SourceMapping {
  readonly [key: string]: SourceValue;
}

/** One route of a service as the file spells it. */
export interface SourceRoute {
  /** The path, normalized ({@link normalizeRoutePath}). */
  readonly path: string;
  readonly weight: unknown;
  /** Its index in the service's `routes` list. */
  readonly index: number;
}

/** Options of {@link PlatformSourceEditor.addService}. */
export interface AddServiceOptions {
  /** A comment line written above the new entry, after a blank line. @default - none */
  readonly comment?: string;
}

type Range = [number, number, number];
type Ranged = Node & { range?: Range | null };

/**
 * Edits platform.yaml in place: the one module that changes the file's text for `aio route`,
 * `aio new service` and what comes next.
 *
 * Every edit splices text at the source ranges of the `yaml` Document's nodes, so every other byte
 * of the file (comments, blank lines, flow style, quoting, padding) stays as the user wrote it.
 * Re-serializing the document instead would re-flow the user's flow mappings and line breaks. After
 * each edit the text is parsed again, so edits compose. The editor does not validate the result:
 * callers parse it with `parsePlatform` before they write, so a refused edit writes nothing.
 *
 * @see https://eemeli.org/yaml/#documents
 * @see https://eemeli.org/yaml/#nodes (node `range`: start, value end, node end)
 */
export class PlatformSourceEditor {
  private current: string;
  private doc!: Document;
  private positions!: SourcePositions;

  /**
   * @param text platform.yaml text; syntax errors are the caller's to report (parse it with the
   *   model first)
   * @param file the name shown in messages
   */
  constructor(
    text: string,
    private readonly file = 'platform.yaml',
  ) {
    this.current = text;
    this.reparse();
  }

  /** The edited text. */
  public get text(): string {
    return this.current;
  }

  /** True when `services.<name>` exists. */
  public hasService(name: string): boolean {
    const services = this.doc.get('services', true);
    return isMap(services) && services.has(name);
  }

  /** The routes of `service` as the file spells them, paths normalized. */
  public routes(service: string): SourceRoute[] {
    const routes = this.doc.getIn(['services', service, 'routes'], true);
    if (!isSeq(routes)) return [];
    return routes.items.flatMap((item, index) => {
      if (!isMap(item)) return [];
      const path = item.get('path');
      return typeof path === 'string'
        ? [{ path: normalizeRoutePath(path), weight: item.get('weight'), index }]
        : [];
    });
  }

  /**
   * Sets the weight of `service`'s route `path`. When the weight changes, a comment on the route's
   * line that speaks of the old split (a percentage that was true before and is not now, such as
   * `# 25% to the new service` after a move to 50) is removed, so the file never says two things.
   *
   * @returns whether a stale comment was removed
   * @throws ValidationError when the service has no such route
   */
  public setRouteWeight(service: string, path: string, weight: number): { removedComment?: string } {
    const item = this.routeNode(service, path).item;
    const weightNode = item.get('weight', true) as Ranged | undefined;
    if (!isScalar(weightNode) || !weightNode.range) {
      throw this.error(`has no weight to set; add 'weight: ${weight}'`, this.routePath(service, path));
    }
    const old = weightNode.value;
    const comment = this.trailingComment(item.flow ? (item as Ranged) : weightNode);
    const stale =
      comment && typeof old === 'number' && old !== weight && isStaleSplitComment(comment.text, old, weight);
    const [start, end] = weightNode.range;
    // Remove the comment first: it lies after the weight, so the weight's offsets stay right.
    if (stale) this.current = this.current.slice(0, comment.start) + this.current.slice(comment.end);
    this.splice(start, end, String(weight));
    return stale ? { removedComment: comment.text } : {};
  }

  /**
   * Adds `{ path, weight }` to `service`'s routes: at the end of its `routes` list in the list's own
   * style, or a new `routes:` key when it has none.
   */
  public addRoute(service: string, path: string, weight: number): void {
    this.appendToList(['services', service, 'routes'], { path: normalizeRoutePath(path), weight });
  }

  /**
   * Removes `service`'s route `path`, with the comment on its line. The last route leaves
   * `routes: []`.
   *
   * @throws ValidationError when the service has no such route
   */
  public removeRoute(service: string, path: string): void {
    const { index } = this.routeNode(service, path);
    this.removeListItem(['services', service, 'routes'], index);
  }

  /**
   * Adds a service after the last one, indented like the file's own services, with an optional
   * comment above it.
   *
   * @throws ValidationError when there is no block-style `services` mapping, or the name is taken
   */
  public addService(name: string, fields: SourceMapping, options: AddServiceOptions = {}): void {
    const services = this.doc.get('services', true) as Ranged | undefined;
    if (!isMap(services)) {
      throw this.error("has no 'services' mapping; add one or pass the right --platform file");
    }
    if (services.flow) {
      throw this.error(
        "is a flow mapping ({ ... }); write 'services' in block style so aio can add a service to it",
        ['services'],
      );
    }
    if (services.has(name)) {
      throw this.error(
        `service '${name}' is already defined; pick another name or remove it from the file first`,
        ['services', name],
      );
    }
    const first = services.items[0];
    const indent = this.columnOf((first?.key as Ranged | undefined)?.range?.[0]) ?? 2;
    const firstValue = first?.value;
    const innerKey = isMap(firstValue) && !firstValue.flow ? firstValue.items[0]?.key : undefined;
    const inner = this.columnOf((innerKey as Ranged | undefined)?.range?.[0]) ?? indent + 2;
    const lines = [''];
    if (options.comment) lines.push(`${' '.repeat(indent)}# ${options.comment}`);
    lines.push(`${' '.repeat(indent)}${scalar(name)}:`);
    lines.push(...blockLines(fields, inner, inner - indent));
    const at = this.afterLastEntry(services);
    const text = this.current;
    const head = at === text.length && !text.endsWith('\n') ? '\n' : '';
    this.splice(at, at, head + lines.join('\n') + '\n');
  }

  // --- primitives -------------------------------------------------------------------------------

  private routeNode(service: string, path: string) {
    const routes = this.doc.getIn(['services', service, 'routes'], true);
    const wanted = normalizeRoutePath(path);
    const hit = this.routes(service).find((r) => r.path === wanted);
    if (!isSeq(routes) || !hit) {
      throw this.error(`service '${service}' has no route '${wanted}'`, ['services', service, 'routes']);
    }
    const item = routes.items[hit.index];
    if (!isMap(item)) throw this.error('must be a mapping', this.routePath(service, path));
    return { item, index: hit.index };
  }

  private routePath(service: string, path: string): FieldPath {
    const hit = this.routes(service).find((r) => r.path === normalizeRoutePath(path));
    return ['services', service, 'routes', hit?.index ?? 0];
  }

  /** Appends `value` to the list at `path`, creating the key in its parent mapping when absent. */
  private appendToList(path: readonly string[], value: SourceValue): void {
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
    this.addMapEntry(parentPath, key, [value]);
  }

  /** Adds `key: value` at the end of the mapping at `path`, in the mapping's own style. */
  private addMapEntry(path: readonly string[], key: string, value: SourceValue): void {
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
  private removeListItem(path: readonly string[], index: number): void {
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
  private trailingComment(node: Ranged): { start: number; end: number; text: string } | undefined {
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

  private afterLastEntry(map: YAMLMap): number {
    const last = map.items.at(-1)?.value as Ranged | null | undefined;
    const end = last?.range?.[2] ?? map.range?.[1];
    if (end === undefined) throw this.error("cannot find the end of 'services'", ['services']);
    const lineEnd = this.current.indexOf('\n', end - 1);
    return lineEnd === -1 ? this.current.length : lineEnd + 1;
  }

  private lastValueEnd(map: YAMLMap): number {
    const last = map.items.at(-1)!;
    return ((last.value ?? last.key) as Ranged).range![1];
  }

  private splice(start: number, end: number, insert: string): void {
    this.current = this.current.slice(0, start) + insert + this.current.slice(end);
    this.reparse();
  }

  private reparse(): void {
    const lines = new LineCounter();
    this.doc = parseDocument(this.current, { lineCounter: lines });
    this.positions = new SourcePositions(this.doc, lines);
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

  private columnOf(offset: number | undefined): number | undefined {
    if (offset === undefined || offset < 0) return undefined;
    return offset - (this.current.lastIndexOf('\n', offset - 1) + 1);
  }

  private error(message: string, path?: FieldPath): ValidationError {
    if (!path) return new ValidationError(message, { file: this.file });
    return new ValidationError(message, {
      file: this.file,
      ...this.positions.valueAt(path),
      path: formatPath(path),
    });
  }
}

/**
 * True when a comment beside a weight speaks of a split that is no longer true: it names a
 * percentage that was the old service or monolith share, or one that is neither new share.
 */
export function isStaleSplitComment(comment: string, oldWeight: number, newWeight: number): boolean {
  const shares = [...comment.matchAll(/(\d{1,3})\s*(%|percent)/gi)].map((m) => Number(m[1]));
  if (shares.length === 0) return false;
  const before = new Set([oldWeight, 100 - oldWeight]);
  const now = new Set([newWeight, 100 - newWeight]);
  return shares.some((s) => before.has(s) || !now.has(s));
}

function scalar(value: string | number | boolean): string {
  return stringify(value).trimEnd();
}

/** A value on one line: `[a, b]`, `{ path: /x, weight: 0 }`. */
function flow(value: SourceValue): string {
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
