import {
  createTestDatabase,
  deleteRedisKeys,
  TEST_ADMIN_URL,
  TEST_REDIS_URL,
  testRedisPrefix,
} from '@aio/kit/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { assertReachable } from './reachability.js';

/** A database of one process of the stack. */
export interface StackDatabase {
  /** e.g. `aio_order` (dev) or `aio_test_order_e2e_order_3f9a1c` (test). */
  readonly name: string;
  /** Its connection string, passed as `DATABASE_URL`. */
  readonly url: string;
}

/** Props of {@link StackScope.dev}. */
export interface DevScopeProps {
  /**
   * PostgreSQL server, without a database.
   *
   * @default postgres://postgres@127.0.0.1:5432
   */
  readonly pgUrl?: string;
  /**
   * Redis server.
   *
   * @default redis://127.0.0.1:6379
   */
  readonly redisUrl?: string;
  /**
   * Databases are `<dbPrefix>_<process>`.
   *
   * @default aio
   */
  readonly dbPrefix?: string;
  /**
   * Every Redis key of the stack starts with it; a process's keys with `<redisPrefix><process>:`.
   *
   * @default aio:dev:
   */
  readonly redisPrefix?: string;
  /**
   * What to do when a server is down, appended to the message.
   *
   * @default - start it or point the stack at a running one
   */
  readonly hint?: string;
}

/**
 * Where a stack keeps its state: which databases and Redis keys it owns, and whether they outlive it.
 * `test` gives every stack random database names and a random Redis prefix, dropped at stop; `dev`
 * gives the stable `aio_<process>` databases and `aio:dev:` prefix of `aio dev`, kept across runs.
 */
export abstract class StackScope {
  /** Random names for one test run or benchmark, on the test servers (`AIO_TEST_PG_URL`, `AIO_TEST_REDIS_URL`). */
  public static test(label: string): StackScope {
    return new TestScope(label);
  }

  /** The stable names of `aio dev`, kept when the stack stops. */
  public static dev(props: DevScopeProps = {}): DevScope {
    return new DevScope(props);
  }

  public abstract readonly kind: 'test' | 'dev';
  /** Redis server of the stack. */
  public abstract readonly redisUrl: string;
  /** The prefix of every Redis key of the stack. */
  public abstract readonly redisPrefix: string;

  /** Fails with a {@link StackError} naming PostgreSQL or Redis when one does not answer. */
  public abstract assertReachable(needsRedis: boolean): Promise<void>;

  /** Creates (test) or makes sure of (dev) the databases of these processes. */
  public abstract open(processes: readonly string[]): Promise<Map<string, StackDatabase>>;

  /** Run when the stack stops: test scopes drop their databases and Redis keys; dev scopes keep them. */
  public abstract close(): Promise<void>;

  /** Redis prefix of one process's keys. */
  public prefixOf(process: string): string {
    return `${this.redisPrefix}${process}:`;
  }
}

class TestScope extends StackScope {
  public readonly kind = 'test';
  public readonly redisUrl = TEST_REDIS_URL;
  public readonly redisPrefix: string;
  private readonly dropAll: (() => Promise<void>)[] = [];
  private usesRedis = false;

  constructor(private readonly label: string) {
    super();
    this.redisPrefix = testRedisPrefix(label);
  }

  public assertReachable(needsRedis: boolean): Promise<void> {
    this.usesRedis ||= needsRedis;
    const hint =
      'start it (bash .ci/run starts PostgreSQL and Redis) or set AIO_TEST_PG_URL / AIO_TEST_REDIS_URL';
    return assertReachable(TEST_ADMIN_URL, needsRedis ? this.redisUrl : undefined, hint);
  }

  public async open(processes: readonly string[]): Promise<Map<string, StackDatabase>> {
    const out = new Map<string, StackDatabase>();
    for (const name of processes) {
      const db = await createTestDatabase(`${this.label}_${name}`);
      this.dropAll.push(() => db.drop());
      out.set(name, { name: db.name, url: db.url });
    }
    return out;
  }

  public async close(): Promise<void> {
    await Promise.all(this.dropAll.splice(0).map((drop) => drop()));
    if (!this.usesRedis) return; // a stack without Redis must stop even when Redis is down
    const redis = new Redis(this.redisUrl, { lazyConnect: true });
    try {
      await redis.connect();
      await deleteRedisKeys(redis, this.redisPrefix);
    } finally {
      redis.disconnect();
    }
  }
}

/** The `aio dev` scope; it also knows how to reset itself. */
export class DevScope extends StackScope {
  public readonly kind = 'dev';
  public readonly pgUrl: string;
  public readonly redisUrl: string;
  public readonly redisPrefix: string;
  public readonly dbPrefix: string;
  private readonly hint: string;

  constructor(props: DevScopeProps) {
    super();
    this.pgUrl = props.pgUrl ?? 'postgres://postgres@127.0.0.1:5432';
    this.redisUrl = props.redisUrl ?? 'redis://127.0.0.1:6379';
    this.dbPrefix = props.dbPrefix ?? 'aio';
    this.redisPrefix = props.redisPrefix ?? 'aio:dev:';
    this.hint = props.hint ?? 'start it, or point the stack at a running server';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.dbPrefix)) {
      throw new Error(`dbPrefix: must be lowercase letters, digits and _, got ${this.dbPrefix}`);
    }
    // the prefix bounds what a reset deletes: an empty one would mean every key on the server
    if (!this.redisPrefix) throw new Error('redisPrefix: must not be empty');
  }

  /** `aio_order` for `order`. */
  public databaseName(process: string): string {
    return `${this.dbPrefix}_${process.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  }

  public assertReachable(needsRedis: boolean): Promise<void> {
    return assertReachable(this.databaseUrl('postgres'), needsRedis ? this.redisUrl : undefined, this.hint);
  }

  public async open(processes: readonly string[]): Promise<Map<string, StackDatabase>> {
    const out = new Map<string, StackDatabase>();
    await this.admin(async (client) => {
      for (const process of processes) {
        const name = this.databaseName(process);
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!rowCount) {
          await client.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
            if (err.code !== '42P04') throw err; // created meanwhile by someone else
          });
          this.created.push(name);
        }
        out.set(process, { name, url: this.databaseUrl(name) });
      }
    });
    return out;
  }

  /** Databases that {@link open} created (they did not exist before). */
  public readonly created: string[] = [];

  public async close(): Promise<void> {
    // kept: the next `aio dev` continues where this one stopped
  }

  /**
   * Drops the databases of these processes and deletes every Redis key of the stack's prefix (SCAN +
   * UNLINK of `<prefix>*`, never FLUSHALL: the server is shared).
   *
   * @returns the databases dropped and the number of keys deleted
   */
  public async reset(processes: readonly string[]): Promise<{ databases: string[]; keys: number }> {
    const databases: string[] = [];
    await this.admin(async (client) => {
      for (const process of processes) {
        const name = this.databaseName(process);
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!rowCount) continue;
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        databases.push(name);
      }
    });
    const redis = new Redis(this.redisUrl, { lazyConnect: true });
    try {
      await redis.connect();
      return { databases, keys: await deleteRedisKeys(redis, this.redisPrefix) };
    } finally {
      redis.disconnect();
    }
  }

  private databaseUrl(name: string): string {
    const url = new URL(this.pgUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  private async admin(run: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl('postgres') });
    await client.connect();
    try {
      await run(client);
    } finally {
      await client.end();
    }
  }
}
