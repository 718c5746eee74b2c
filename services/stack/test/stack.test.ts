import { deleteRedisKeys, TEST_ADMIN_URL, TEST_REDIS_URL } from '@aio/kit/testing';
import { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import {
  logLineFormatter,
  PLATFORM_PROCESSES,
  REPO_ROOT,
  resolveEntries,
  StackError,
  StackScope,
  startStack,
  type ProcessEntry,
  type Stack,
} from '../src/index.js';

const FIXTURE = 'services/stack/test/fixtures/http-process.mjs';
/** Cheap stand-ins: `top` calls `mid` and starts after `leaf`; `mid` calls `leaf`. */
const FIXTURES: readonly ProcessEntry[] = [
  { name: 'top', role: 'service', main: FIXTURE, calls: ['mid'], after: ['leaf'], database: true },
  { name: 'mid', role: 'service', main: FIXTURE, calls: ['leaf'], redis: true },
  { name: 'leaf', role: 'support', main: FIXTURE, database: true },
];

const stacks: Stack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
});

async function databases(where: string, param: unknown): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE ${where}`,
      [param],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}
const databasesNamed = (names: readonly string[]) => databases('datname = ANY($1)', names);
const databasesLike = (pattern: string) => databases('datname LIKE $1', pattern);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('resolveEntries', () => {
  test('puts what a process calls before it, and adds what it needs', () => {
    expect(resolveEntries(PLATFORM_PROCESSES, ['order']).map((e) => e.name)).toEqual([
      // every service trusts the development issuer, so it starts first
      'token-issuer',
      'inventory',
      'payment',
      'review',
      'catalog',
      'order',
    ]);
    expect(resolveEntries([...PLATFORM_PROCESSES, ...FIXTURES], ['top']).map((e) => e.name)).toEqual([
      'leaf',
      'mid',
      'top',
    ]);
  });

  test('puts a stand-in in place of the process it replaces', () => {
    const nul: ProcessEntry = { name: 'nul', role: 'support', main: FIXTURE };
    const names = resolveEntries([...PLATFORM_PROCESSES, nul], ['order'], {
      inventory: 'nul',
      payment: 'nul',
      catalog: 'nul',
    });
    expect(names.map((e) => e.name)).toEqual(['nul', 'token-issuer', 'order']);
  });

  test('throws naming an unknown process and a cycle', () => {
    expect(() => resolveEntries(PLATFORM_PROCESSES, ['ordr'])).toThrow(
      "unknown process 'ordr'; known: order, inventory, payment",
    );
    const a: ProcessEntry = { name: 'a', role: 'service', main: FIXTURE, calls: ['b'] };
    const b: ProcessEntry = { name: 'b', role: 'service', main: FIXTURE, calls: ['a'] };
    expect(() => resolveEntries([a, b], ['a'])).toThrow('dependency cycle: a → b → a');
  });
});

describe('startStack', () => {
  test('starts a set in dependency order, kills and restarts one, and stops leaving nothing', async () => {
    // each fixture exits 1 unless every URL it was given answers: a wrong order fails the start
    const stack = await startStack({
      processes: ['top'],
      scope: StackScope.test('stack_launcher'),
      extraProcesses: FIXTURES,
      replicas: { top: 2 },
      env: { leaf: { EXTRA: 'x' } },
    });
    stacks.push(stack);
    expect(stack.processes.map((p) => p.name)).toEqual(['leaf', 'mid', 'top-0', 'top-1']);
    const top = stack.process('top-1');
    expect(top.env).toMatchObject({
      MID_URL: stack.process('mid').url,
      DATABASE_URL: stack.database('top').url,
      HOST: '127.0.0.1',
    });
    expect(stack.process('top').name).toBe('top-0');
    expect(stack.process('mid').env).toMatchObject({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${stack.redisPrefix}mid:`,
    });
    expect(stack.process('leaf').env.EXTRA).toBe('x');
    expect(readFileSync(join(stack.logDir!, 'leaf.log'), 'utf8')).toContain('"msg":"listening"');

    const mid = stack.process('mid');
    const pid = mid.pid!;
    await mid.kill9();
    expect(mid.running).toBe(false);
    expect(alive(pid)).toBe(false);
    await expect(fetch(`${mid.url}/healthz`)).rejects.toThrow();
    await mid.start();
    expect(mid.pid).not.toBe(pid);
    expect((await fetch(`${mid.url}/healthz`)).ok).toBe(true); // same port again
    expect(mid.exits).toBe(1);

    const redis = new Redis(TEST_REDIS_URL);
    await redis.set(`${stack.redisPrefix}mid:k`, '1');
    const pids = stack.processes.map((p) => p.pid!);
    const dbs = [stack.database('top').name, stack.database('leaf').name];
    expect(await databasesNamed(dbs)).toHaveLength(2);
    await stack.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(await databasesNamed(dbs)).toEqual([]);
    expect(await deleteRedisKeys(redis, stack.redisPrefix)).toBe(0); // the stack deleted its keys
    redis.disconnect();
  });

  test('rejects naming the process and its log when one fails to start, and leaves nothing', async () => {
    const scope = StackScope.test('stack_fail');
    const error = await startStack({
      processes: ['top'],
      scope,
      extraProcesses: FIXTURES,
      env: { mid: { FAIL_START: '1' } },
    }).catch((err: unknown) => err as StackError);
    expect(error).toBeInstanceOf(StackError);
    expect((error as Error).message).toMatch(
      /^mid exited before \/healthz answered \(code 1\); see .*mid\.log$/,
    );
    const log = (error as Error).message.split('see ')[1]!;
    expect(readFileSync(log, 'utf8')).toContain('refusing to start');
    const leafLog = join(log, '..', 'leaf.log');
    expect(existsSync(leafLog)).toBe(true);
    // leaf was started, then stopped with the failure
    const pgrep = spawnSync('pgrep', ['-f', join(REPO_ROOT, FIXTURE)], { encoding: 'utf8' });
    expect(pgrep.stdout.trim()).toBe('');
    expect(await databasesLike('aio_test_stack_fail_%')).toEqual([]);
  });

  test('names a server that is down before creating anything', async () => {
    const scope = StackScope.dev({ pgUrl: 'postgres://postgres@127.0.0.1:1', hint: 'start it' });
    await expect(startStack({ processes: ['payment'], scope })).rejects.toThrow(
      'PostgreSQL at 127.0.0.1:1 is not reachable (ECONNREFUSED); start it',
    );
  });
});

describe('logLineFormatter', () => {
  const line = '{"level":40,"time":"2026-12-01T08:00:00.000Z","service":"order","msg":"slow"}';

  test('json passes pino lines through and prefixes the others', async () => {
    const format = await logLineFormatter('json', false);
    expect(format('order', line)).toBe(line);
    expect(format('order', 'config error: PORT: is required')).toBe(
      '[order]      config error: PORT: is required',
    );
  });

  test('pretty renders pino lines behind the process name', async () => {
    const format = await logLineFormatter('pretty', false);
    expect(format('order', line)).toMatch(/^\[order\] +\[\d\d:\d\d:\d\d\.000\] WARN: slow$/);
  });
});
