import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { serveShadowComparer, shadowRoutes } from '../../cli/shadow-compare.js';

const dir = mkdtempSync(join(tmpdir(), 'aio-shadow-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const route = {
  service: 'order',
  path: '/api/orders',
  servicePath: '/orders',
  shadow: 10,
  shadowIgnore: ['at'],
};

describe('shadow comparer routes file (the cluster ConfigMap)', () => {
  test('reads the routes, and again when the file changes', () => {
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify([route]));
    const routes = shadowRoutes({ routesFile: file });
    expect(routes()).toEqual([route]);
    writeFileSync(file, JSON.stringify([{ ...route, shadow: 20 }]));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(routes()[0]!.shadow).toBe(20);
  });

  test('rejects a file that is not an array of routes, naming the file, before serving anything', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ service: 'order', path: '/api/orders' }]));
    await expect(serveShadowComparer({ routesFile: file, port: 0, env: {}, logFile: '-' })).rejects.toThrow(
      `${file}: must be a JSON array of { service, path, servicePath, shadow, shadowIgnore }`,
    );
  });
});

describe('aio shadow report --log -', () => {
  test("reads the records from standard input, as piped from the cluster comparer's kubectl logs", () => {
    const record = {
      at: '2026-12-01T00:00:00.000Z',
      service: 'order',
      route: '/api/orders',
      method: 'GET',
      uri: '/api/orders/1',
      mismatches: [{ field: 'total', monolith: 1, service: 2 }],
    };
    const aio = fileURLToPath(new URL('../../lib/bin/aio.js', import.meta.url));
    const run = (input: string) =>
      spawnSync(process.execPath, [aio, 'shadow', 'report', '--log', '-', '--json'], {
        input,
        encoding: 'utf8',
      });
    const ok = run(`${JSON.stringify(record)}\n${JSON.stringify({ ...record, mismatches: [] })}\n`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ compared: 2 });
    const bad = run('a stray log line\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('-:1: not a shadow compare record');
  });
});
