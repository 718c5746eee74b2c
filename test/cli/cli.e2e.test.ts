import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE, PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

// The built CLI, as users run it (npm test builds before running tests).
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AIO = join(ROOT, 'lib/bin/aio.js');
const REFERENCE = PLATFORM_FIXTURE_YAML;

function aio(args: string[], cwd = ROOT) {
  return execa('node', [AIO, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
}

let work: string;
beforeAll(() => {
  if (!existsSync(AIO)) throw new Error('lib/bin/aio.js is missing: run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'aio-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('aio (built CLI)', () => {
  test('--version prints the package version and exits 0', async () => {
    const r = await aio(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test('validate accepts the platform fixture and counts what it holds', async () => {
    const r = await aio(['validate', '-f', PLATFORM_FIXTURE_FILE]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('test/fixtures/platform.yaml: ok (6 services, 2 environments');
  });

  test('validate lists every problem of a broken copy with positions, exit 1 and no stack trace', async () => {
    const broken = REFERENCE.replace('database: postgres\n    calls', 'databse: postgres\n    calls')
      .replace('weight: 25 }', 'weight: 150 }')
      .replace('calls: [inventory, payment, catalog]', 'calls: [inventory, paymnt, catalog]');
    const file = join(work, 'broken.yaml');
    writeFileSync(file, broken);
    const r = await aio(['validate', '-f', file], work);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^broken\.yaml:\d+:\d+: services\.order\.databse: 'databse' is not a known key; did you mean 'database'\?$/,
      ),
      expect.stringMatching(
        /^broken\.yaml:\d+:\d+: services\.order\.calls\[1\]: names no service in this platform; .*, got 'paymnt'$/,
      ),
      expect.stringMatching(
        /^broken\.yaml:\d+:\d+: services\.order\.routes\[0\]\.weight: must be an integer from 0 to 100, got 150$/,
      ),
      '3 problems found',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('--verbose adds the stack trace', async () => {
    const file = join(work, 'bad-verbose.yaml');
    writeFileSync(file, 'platform: [\n');
    const r = await aio(['validate', '-f', file, '--verbose'], work);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^bad-verbose\.yaml:\d+:\d+: invalid YAML: /);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  test('a missing file is a clear error, exit 1', async () => {
    const r = await aio(['validate', '-f', 'nope.yaml'], work);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(
      'nope.yaml: file not found; run aio in the platform repo or pass -f <path to platform.yaml>',
    );
  });

  test('usage errors exit 2', async () => {
    expect((await aio(['synth', '--bogus'])).exitCode).toBe(2);
    expect((await aio(['frobnicate'])).exitCode).toBe(2);
    const r = await aio(['synth', '--env', 'qa', '--out', join(work, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("error: --env must be one of dev, prod, all, got 'qa'");
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  test('routes prints the migration table, and --json the rows', async () => {
    const text = await aio(['routes', '-f', PLATFORM_FIXTURE_FILE]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/\/api\/orders\s+order\s+25%\s+75%/);
    expect(text.stdout).toMatch(/\/ \(everything else\)\s+monolith\s+0%\s+100%/);
    const json = JSON.parse(
      (await aio(['routes', '--json', '-f', PLATFORM_FIXTURE_FILE])).stdout,
    ) as unknown[];
    expect(json).toContainEqual({
      path: '/api/stock',
      service: 'inventory',
      servicePercent: 100,
      monolithPercent: 0,
    });
  });

  test('schema prints the JSON Schema that platform.yaml references', async () => {
    const r = await aio(['schema']);
    expect(r.exitCode).toBe(0);
    const printed = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(printed.properties)).toEqual(
      expect.arrayContaining(['platform', 'services', 'mesh', 'gateway']),
    );
    expect(printed).toEqual(JSON.parse(readFileSync(join(ROOT, 'platform.schema.json'), 'utf8')));
  });
});
