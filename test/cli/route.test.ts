import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { execa } from 'execa';
import { memoryIo } from '../../cli/cli-io.js';
import { routeCommand, type RouteCommandOptions } from '../../cli/route.js';
import { UsageError, parsePlatform } from '../../model/index.js';
import { PLATFORM_FIXTURE_YAML as FIXTURE } from '../fixtures/platform.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aio-route-'));
  file = join(dir, 'platform.yaml');
  writeFileSync(file, FIXTURE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `aio route` in-process. A thrown error is what the CLI prints: a UsageError exits 2, any
 * other user error 1.
 */
async function route(service: string, path: string, opts: Partial<RouteCommandOptions> | string) {
  const io = memoryIo(dir);
  const options = typeof opts === 'string' ? { weight: opts } : opts;
  try {
    const code = await routeCommand(io, service, path, { file: 'platform.yaml', ...options });
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  } catch (err) {
    return {
      code: err instanceof UsageError ? 2 : 1,
      out: io.stdout.join('\n'),
      err: (err as Error).message,
    };
  }
}

const ORDER_LINE =
  '- { path: /api/orders, servicePath: /orders, weight: 25 } # 25% to the new service, 75% still to the monolith';

describe('aio route', () => {
  test('changes only the weight, removes the comment that states the old split, and prints before/after', async () => {
    const r = await route('order', '/api/orders', '50');
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      FIXTURE.replace(ORDER_LINE, '- { path: /api/orders, servicePath: /orders, weight: 50 }'),
    );
    expect(r.out).toMatch(
      /before:\n[\s\S]*\/api\/orders\s+order\s+25%\s+75%[\s\S]*after:\n[\s\S]*\/api\/orders\s+order\s+50%\s+50%/,
    );
    expect(r.out).toContain('/ (everything else)  monolith');
    expect(r.err).toContain(
      "removed the stale comment '# 25% to the new service, 75% still to the monolith'",
    );
  });

  test('keeps a comment beside the weight that states no split', async () => {
    writeFileSync(
      file,
      FIXTURE.replace(
        ORDER_LINE,
        '- { path: /api/orders, servicePath: /orders, weight: 25 } # phase 2 pilot',
      ),
    );
    expect((await route('order', '/api/orders', '60')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(
      '- { path: /api/orders, servicePath: /orders, weight: 60 } # phase 2 pilot',
    );
  });

  test('removes a stale comment beside a block-style weight too', async () => {
    writeFileSync(
      file,
      FIXTURE.replace(ORDER_LINE, '- path: /api/orders\n        weight: 25 # a quarter: 25% of customers'),
    );
    expect((await route('order', '/api/orders', '75')).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('- path: /api/orders\n        weight: 75\n');
    expect(text).not.toContain('a quarter');
  });

  test('rolls back with the same command: the weight is back, the stale comment stays gone', async () => {
    expect((await route('order', '/api/orders', '100')).code).toBe(0);
    expect((await route('order', '/api/orders', '25')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      FIXTURE.replace(ORDER_LINE, '- { path: /api/orders, servicePath: /orders, weight: 25 }'),
    );
  });

  test('adds a new path with --add, normalizing a trailing slash', async () => {
    const r = await route('payment', '/api/payments/', { weight: '10', add: true });
    expect(r.code).toBe(0);
    const model = parsePlatform(readFileSync(file, 'utf8'));
    expect(model.service('payment').routes).toEqual([
      { path: '/api/payments', weight: 10, auth: 'customer' },
    ]);
    expect(readFileSync(file, 'utf8')).toContain('# Phase 1: low-risk domains move first.');
    expect(r.err).toContain('added payment /api/payments → 10%');
  });

  test('--remove deletes the route and its line, and nothing else', async () => {
    const r = await route('order', '/api/orders', { remove: true });
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(FIXTURE.replace(`    routes:\n      ${ORDER_LINE}\n`, '    routes: []\n'));
    expect(
      parsePlatform(text)
        .routes()
        .map((x) => x.path),
    ).not.toContain('/api/orders');
    expect(r.out).toMatch(/after:\n(?![\s\S]*\/api\/orders)/);
  });

  test.each([
    [['order', '/api/order', '10'], "service 'order' has no route '/api/order'; did you mean '/api/orders'?"],
    [['order', '/api/order', '10'], "pass --add to add '/api/order' to order"],
    [['payment', '/api/payments', '10'], "service 'payment' has no route '/api/payments'; it has no routes"],
    [['order', '/api/orders', '101'], "--weight must be an integer from 0 to 100, got '101'"],
    [['order', '/api/orders', '150'], "--weight must be an integer from 0 to 100, got '150'"],
    [['order', '/api/orders', 'abc'], "--weight must be an integer from 0 to 100, got 'abc'"],
    [['order', '/api/orders', '-5'], "--weight must be an integer from 0 to 100, got '-5'"],
    [['ordr', '/api/orders', '10'], "no service 'ordr' in platform.yaml; did you mean 'order'?"],
    [
      ['order', 'api/orders', '10'],
      "<path> must start with '/' and use only URL path characters, got 'api/orders'",
    ],
    [['order', '/', '10'], "<path> '/' is the catch-all to the legacy monolith"],
    [['order', '/api/stock', '10'], "path '/api/stock' is routed to service 'inventory'"],
  ])('rejects %j as a usage error, exit 2, and writes nothing', async (args, message) => {
    const [service, path, weight] = args as [string, string, string];
    const r = await route(service, path, weight);
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(FIXTURE);
  });

  test.each([
    [
      { remove: true },
      '/api/ordrs',
      "service 'order' has no route '/api/ordrs'; did you mean '/api/orders'?",
    ],
    [{ remove: true, weight: '10' }, '/api/orders', '--remove cannot be combined with --weight or --add'],
    [{}, '/api/orders', 'one of --weight <percent> or --remove is required'],
  ])('rejects %j %s as a usage error, exit 2, and writes nothing', async (opts, path, message) => {
    const r = await route('order', path, opts);
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(FIXTURE);
  });

  test('rejects a missing platform file naming it and the -f flag', async () => {
    rmSync(file);
    const r = await route('order', '/api/orders', '10');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'platform.yaml: file not found; run aio in the platform repo or pass -f <path to platform.yaml>',
    );
  });

  test('the built CLI exits 2 on a bad --weight and on a typo path, with one clear line and no stack trace', async () => {
    const aio = fileURLToPath(new URL('../../lib/bin/aio.js', import.meta.url));
    const run = (...args: string[]) => execa('node', [aio, 'route', ...args, '-f', file], { reject: false });
    const bad = await run('order', '/api/orders', '--weight', '101');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe("error: --weight must be an integer from 0 to 100, got '101'");
    const typo = await run('order', '/api/order', '--weight', '10');
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr.trim().split('\n')).toHaveLength(1);
    expect(typo.stderr).toContain("did you mean '/api/orders'?");
    expect(readFileSync(file, 'utf8')).toBe(FIXTURE);
  });
});
