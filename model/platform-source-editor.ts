import { isMap, isScalar, isSeq } from 'yaml';
import { normalizeRoutePath } from './route-path.js';
import type { FieldPath } from './source-positions.js';
import { YamlSource, type Ranged, type SourceMapping, type SourceValue } from './yaml-source.js';

export type { SourceMapping, SourceValue } from './yaml-source.js';

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

/**
 * Edits platform.yaml in place: the one module that changes the file's text for `aio route`,
 * `aio new service` and what comes next.
 *
 * Every edit splices text at the source ranges of the `yaml` Document's nodes ({@link YamlSource}),
 * so every other byte of the file (comments, blank lines, flow style, quoting, padding) stays as
 * the user wrote it, and edits compose. The editor does not validate the result:
 * callers parse it with `parsePlatform` before they write, so a refused edit writes nothing.
 *
 * @see https://eemeli.org/yaml/#documents
 * @see https://eemeli.org/yaml/#nodes (node `range`: start, value end, node end)
 */
export class PlatformSourceEditor {
  private readonly source: YamlSource;

  /**
   * @param text platform.yaml text; syntax errors are the caller's to report (parse it with the
   *   model first)
   * @param file the name shown in messages
   */
  constructor(text: string, file = 'platform.yaml') {
    this.source = new YamlSource(text, file);
  }

  /** The edited text. */
  public get text(): string {
    return this.source.text;
  }

  /** True when `services.<name>` exists. */
  public hasService(name: string): boolean {
    const services = this.source.doc.get('services', true);
    return isMap(services) && services.has(name);
  }

  /** The routes of `service` as the file spells them, paths normalized. */
  public routes(service: string): SourceRoute[] {
    const routes = this.source.doc.getIn(['services', service, 'routes'], true);
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
      throw this.source.error(`has no weight to set; add 'weight: ${weight}'`, this.routePath(service, path));
    }
    const old = weightNode.value;
    const comment = this.source.trailingComment(item.flow ? (item as Ranged) : weightNode);
    const stale =
      comment && typeof old === 'number' && old !== weight && isStaleSplitComment(comment.text, old, weight);
    const [start, end] = weightNode.range;
    // Remove the comment first: it lies after the weight, so the weight's offsets stay right.
    if (stale) this.source.splice(comment.start, comment.end, '');
    this.source.splice(start, end, String(weight));
    return stale ? { removedComment: comment.text } : {};
  }

  /**
   * Adds `{ path, weight }` to `service`'s routes: at the end of its `routes` list in the list's own
   * style, or a new `routes:` key when it has none.
   */
  public addRoute(service: string, path: string, weight: number): void {
    this.source.appendToList(['services', service, 'routes'], { path: normalizeRoutePath(path), weight });
  }

  /**
   * Sets a single-valued field of `service`'s route `path` (such as a shadow percentage), adding it
   * when absent. For the weight use {@link setRouteWeight}, which also handles stale comments.
   *
   * @throws ValidationError when the service has no such route, or the field holds a list or mapping
   */
  public setRouteField(service: string, path: string, key: string, value: SourceValue): void {
    const { index } = this.routeNode(service, path);
    this.source.set(['services', service, 'routes', index, key], value);
  }

  /**
   * Sets a field of `service` (such as `tier`, or a new `auth` mapping), adding it at the end of the
   * service when absent.
   *
   * @throws ValidationError when the service does not exist, or the field holds a list or mapping
   */
  public setServiceField(service: string, key: string, value: SourceValue): void {
    if (!this.hasService(service)) {
      throw this.source.error(`no service '${service}' to set '${key}' on`, ['services']);
    }
    this.source.set(['services', service, key], value);
  }

  /**
   * Removes `service`'s route `path`, with the comment on its line. The last route leaves
   * `routes: []`.
   *
   * @throws ValidationError when the service has no such route
   */
  public removeRoute(service: string, path: string): void {
    const { index } = this.routeNode(service, path);
    this.source.removeListItem(['services', service, 'routes'], index);
  }

  /**
   * Adds a service after the last one, indented like the file's own services, with an optional
   * comment above it.
   *
   * @throws ValidationError when there is no block-style `services` mapping, or the name is taken
   */
  public addService(name: string, fields: SourceMapping, options: AddServiceOptions = {}): void {
    const services = this.source.doc.get('services', true) as Ranged | undefined;
    if (!isMap(services)) {
      throw this.source.error("has no 'services' mapping; add one or pass the right --platform file");
    }
    if (services.flow) {
      throw this.source.error(
        "is a flow mapping ({ ... }); write 'services' in block style so aio can add a service to it",
        ['services'],
      );
    }
    if (services.has(name)) {
      throw this.source.error(
        `service '${name}' is already defined; pick another name or remove it from the file first`,
        ['services', name],
      );
    }
    this.source.addBlockEntry(['services'], name, fields, options.comment);
  }

  private routeNode(service: string, path: string) {
    const routes = this.source.doc.getIn(['services', service, 'routes'], true);
    const wanted = normalizeRoutePath(path);
    const hit = this.routes(service).find((r) => r.path === wanted);
    if (!isSeq(routes) || !hit) {
      throw this.source.error(`service '${service}' has no route '${wanted}'`, [
        'services',
        service,
        'routes',
      ]);
    }
    const item = routes.items[hit.index];
    if (!isMap(item)) throw this.source.error('must be a mapping', this.routePath(service, path));
    return { item, index: hit.index };
  }

  private routePath(service: string, path: string): FieldPath {
    const hit = this.routes(service).find((r) => r.path === normalizeRoutePath(path));
    return ['services', service, 'routes', hit?.index ?? 0];
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
