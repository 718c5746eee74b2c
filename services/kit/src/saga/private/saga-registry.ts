import type { SagaDefinition } from '../saga-definition.js';

/**
 * The definitions a process knows, by type and version. New sagas start on the highest version of
 * their type; a saga in flight finishes on the version it started with, so a worker claims only the
 * (type, version) pairs registered here.
 */
export class SagaRegistry {
  private readonly byVersion = new Map<string, SagaDefinition<unknown>>();
  private readonly latestByType = new Map<string, SagaDefinition<unknown>>();

  /** Adds a definition version. */
  public add(definition: SagaDefinition<unknown>): void {
    this.byVersion.set(`${definition.type}@${definition.version}`, definition);
    const current = this.latestByType.get(definition.type);
    if (!current || current.version < definition.version) this.latestByType.set(definition.type, definition);
  }

  /** The definition a stored saga runs on, or undefined when this process does not have it. */
  public get(type: string, version: number): SagaDefinition<unknown> | undefined {
    return this.byVersion.get(`${type}@${version}`);
  }

  /**
   * The version new sagas of `type` start on.
   *
   * @throws Error when the type is not registered
   */
  public latest(type: string): SagaDefinition<unknown> {
    const def = this.latestByType.get(type);
    if (!def) throw new Error(`saga type '${type}' is not registered; call register() first`);
    return def;
  }

  /** Every registered `type@version`, as the claim query matches them. */
  public kinds(): string[] {
    return [...this.byVersion.keys()];
  }
}
