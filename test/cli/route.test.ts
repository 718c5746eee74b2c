import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { execa } from 'execa';
import { memoryIo } from '../../cli/cli-io.js';
import { routeCommand } from '../../cli/route.js';
import { parsePlatform } from '../../model/index.js';

const REFERENCE = readFileSync(fileURLToPath(new URL('../../platform.yaml', import.meta.url)), 'utf8');
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aio-route-'));
  file = join(dir, 'platform.yaml');
  writeFileSync(file, REFERENCE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `aio route <service> <path> -w <weight>` in-process; a thrown error is what the CLI prints with exit 1. */
async function route(service: string, path: string, weight: string) {
  const io = memoryIo(dir);
  try {
    const code = await routeCommand(io, service, path, { file: 'platform.yaml', weight });
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  } catch (err) {
    return { code: 1, out: io.stdout.join('\n'), err: (err as Error).message };
  }
}

describe('aio route', () => {
  test('changes only the weight, keeps comments and formatting, and prints before/after', async () => {
    const r = await route('order', '/api/orders', '50');
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(
      REFERENCE.replace(
        '- { path: /api/orders, weight: 25 } # 25% to the new service',
        '- { path: /api/orders, weight: 50 } # 25% to the new service',
      ),
    );
    expect(r.out).toMatch(
      /before:\n[\s\S]*\/api\/orders\s+order\s+25%\s+75%[\s\S]*after:\n[\s\S]*\/api\/orders\s+order\s+50%\s+50%/,
    );
    expect(r.out).toContain('/ (everything else)  monolith');
  });

  test('rolls back with the same command, byte for byte', async () => {
    expect((await route('order', '/api/orders', '100')).code).toBe(0);
    expect((await route('order', '/api/orders', '25')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(REFERENCE);
  });

  test('adds a new path to a service that had none', async () => {
    const r = await route('payment', '/api/payments/', '10');
    expect(r.code).toBe(0);
    const model = parsePlatform(readFileSync(file, 'utf8'));
    expect(model.service('payment').routes).toEqual([{ path: '/api/payments', weight: 10 }]);
    expect(readFileSync(file, 'utf8')).toContain('# Phase 1: low-risk domains move first.');
  });

  test.each([
    [['order', '/api/orders', '150'], "--weight must be an integer from 0 to 100, got '150'"],
    [['order', '/api/orders', 'half'], "--weight must be an integer from 0 to 100, got 'half'"],
    [['ordr', '/api/orders', '10'], "no service 'ordr' in platform.yaml; did you mean 'order'?"],
    [['order', 'api/orders', '10'], "<path> must start with '/'"],
    [['order', '/', '10'], "<path> '/' is the catch-all to the legacy monolith"],
    [['order', '/api/stock', '10'], "path '/api/stock' is routed to service 'inventory'"],
  ])('rejects %j with exit 1 and writes nothing', async (args, message) => {
    const [service, path, weight] = args as [string, string, string];
    const r = await route(service, path, weight);
    expect(r.code).toBe(1);
    expect(r.err).toContain(message);
    expect(readFileSync(file, 'utf8')).toBe(REFERENCE);
  });

  test('rejects a missing platform file naming it and the -f flag', async () => {
    rmSync(file);
    const r = await route('order', '/api/orders', '10');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'platform.yaml: file not found; run aio in the platform repo or pass -f <path to platform.yaml>',
    );
  });

  test('the built CLI exits 1 with one clear line and no stack trace', async () => {
    const aio = fileURLToPath(new URL('../../lib/bin/aio.js', import.meta.url));
    const r = await execa('node', [aio, 'route', 'order', '/api/orders', '--weight', '101', '-f', file], {
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe("--weight must be an integer from 0 to 100, got '101'");
    expect(readFileSync(file, 'utf8')).toBe(REFERENCE);
  });
});
