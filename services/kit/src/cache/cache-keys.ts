/**
 * Redis key names of one cache: `<prefix>cache:<name>:v<schemaVersion>:{<key>}` for an entry and the
 * same with `:lease` for its load lease.
 *
 * The schema version is part of every key, so a deploy that changes the cached value's shape reads
 * and writes keys of its own, never the previous shape. The key sits in a hash tag (`{…}`), so an
 * entry and its lease share a Redis Cluster slot and one script can touch both.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export class CacheKeys {
  private readonly base: string;

  constructor(prefix: string, name: string, schemaVersion: number) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
      throw new Error(
        `cache name: must be lowercase letters, digits and '-', starting with a letter, got ${JSON.stringify(name)}`,
      );
    }
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
      throw new Error(`cache ${name}: schemaVersion must be a positive integer, got ${schemaVersion}`);
    }
    this.base = `${prefix}cache:${name}:v${schemaVersion}:`;
  }

  /** The entry's key; throws on a key Redis hash tags or the key budget cannot carry. */
  entry(key: string): string {
    if (key.length === 0 || key.length > 512 || /[{}\s]/.test(key)) {
      throw new Error(
        `cache key: must be 1 to 512 characters without braces or spaces, got ${JSON.stringify(key.slice(0, 80))}`,
      );
    }
    return `${this.base}{${key}}`;
  }

  /** The lease key beside an entry key. */
  lease(entryKey: string): string {
    return `${entryKey}:lease`;
  }

  /** The prefix of every key of this cache and schema version (for cleanup and SCAN). */
  get prefix(): string {
    return this.base;
  }
}
