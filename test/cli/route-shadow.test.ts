import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { routeCommand, type RouteCommandOptions } from '../../cli/route.js';
import { parsePlatform, UsageError } from '../../model/index.js';
import { PLATFORM_FIXTURE_YAML as FIXTURE } from '../fixtures/platform.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aio-route-shadow-'));
  file = join(dir, 'platform.yaml');
  writeFileSync(file, FIXTURE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function route(service: string, path: string, opts: Partial<RouteCommandOptions>) {
  const io = memoryIo(dir);
  try {
    const code = await routeCommand(io, service, path, { file: 'platform.yaml', ...opts });
    return { code, err: io.stderr.join('\n') };
  } catch (err) {
    return { code: err instanceof UsageError ? 2 : 1, err: (err as Error).message };
  }
}

describe('aio route --shadow', () => {
  test('records the shadow percentage on the route, keeping the weight and the comments', async () => {
    const r = await route('order', '/api/orders', { shadow: '10' });
    expect(r.code).toBe(0);
    expect(r.err).toContain('shadow of order /api/orders → 10%');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(
      '- { path: /api/orders, servicePath: /orders, weight: 25, shadow: 10 } # 25% to the new service',
    );
    expect(text.replace(', shadow: 10', '')).toBe(FIXTURE);
    const routes = parsePlatform(text).routes();
    expect(routes.find((x) => x.path === '/api/orders')).toMatchObject({ weight: 25, shadow: 10 });

    expect((await route('order', '/api/orders', { shadow: '0' })).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('weight: 25, shadow: 0 }');
  });

  test.each(['101', '-1', '5.5', 'ten'])(
    'refuses --shadow %s with a usage error, writing nothing',
    async (v) => {
      const r = await route('order', '/api/orders', { shadow: v });
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--shadow must be an integer from 0 to 100, got '${v}'`);
      expect(readFileSync(file, 'utf8')).toBe(FIXTURE);
    },
  );

  test('refuses --shadow with --weight, and on a path the service does not have', async () => {
    expect((await route('order', '/api/orders', { shadow: '5', weight: '50' })).code).toBe(2);
    const typo = await route('order', '/api/order', { shadow: '5' });
    expect(typo.code).toBe(2);
    expect(typo.err).toContain("did you mean '/api/orders'");
    expect(readFileSync(file, 'utf8')).toBe(FIXTURE);
  });
});
