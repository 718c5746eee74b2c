import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { memoryIo } from '../cli/cli-io.js';
import type * as Program from '../cli/program.js';

// The one test file that reads the live platform.yaml. Every other test uses the frozen fixture
// (test/fixtures/platform.yaml), so that the README's commands that edit platform.yaml (aio route,
// aio new service) never break the suite. Nothing here asserts a weight, a count or a name that
// those commands change: only that the file validates, synthesizes and matches what is committed.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AIO = join(ROOT, 'lib/bin/aio.js');

function aio(args: string[]) {
  return execa('node', [AIO, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });
}

let work: string;
beforeAll(() => {
  if (!existsSync(AIO)) throw new Error('lib/bin/aio.js is missing: run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'aio-reference-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the reference platform.yaml', () => {
  test('validates, names its JSON Schema for editors, and the committed workflows match it', async () => {
    const r = await aio(['validate']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^platform\.yaml: ok \(\d+ services, \d+ environments/);
    const text = readFileSync(join(ROOT, 'platform.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./platform.schema.json');

    const { runCli } = (await import(join(ROOT, 'lib/cli/program.js'))) as typeof Program;
    const io = memoryIo(ROOT);
    expect(await runCli(['node', 'aio', 'pipelines', '--check'], io)).toBe(0);
    expect(io.stderr).toEqual([]);
  });

  test('synthesizes: synth --json honours --out and prints the summary shape CI reads', async () => {
    const out = join(work, 'out');
    const r = await aio(['synth', '--env', 'dev', '--out', out, '--json']);
    expect(r.stderr).toContain('synth: platform.yaml → ');
    const summary = JSON.parse(r.stdout) as {
      ok: boolean;
      environments: { env: string; stacks: number; resources: number; manifests: number; seconds: number }[];
      findings: unknown[];
    };
    expect(summary.findings).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(summary.environments.map((e) => e.env)).toEqual(['dev']);
    expect(summary.environments[0]).toEqual(
      expect.objectContaining({
        stacks: expect.any(Number),
        resources: expect.any(Number),
        manifests: expect.any(Number),
      }),
    );
    expect(existsSync(join(out, 'dev'))).toBe(true);
    expect(existsSync(join(out, 'prod'))).toBe(false);
  }, 300_000);

  test("declares the call timeouts the services' code defaults to (callBudgets.<callee>.env)", async () => {
    const { loadPlatform } = await import('../model/load-platform.js');
    const { durationMs } = await import('../model/call-budget.js');
    const model = loadPlatform(join(ROOT, 'platform.yaml'));
    const declared = model.services.flatMap((s) =>
      Object.entries(s.callBudgets)
        .filter(([, b]) => b.env !== undefined)
        .map(([callee, b]) => ({ caller: s.name, callee, env: b.env!, ms: durationMs(b.timeout) })),
    );
    expect(declared.length).toBeGreaterThan(0);
    for (const d of declared) {
      const config = (await import(join(ROOT, 'services', d.caller, 'dist/config.js'))) as Record<
        string,
        unknown
      >;
      const schema = Object.entries(config).find(([k]) => k.endsWith('ConfigSchema'))?.[1] as
        { shape: Record<string, { parse(v: unknown): unknown }> } | undefined;
      const variable = schema?.shape[d.env];
      expect(variable, `${d.caller}'s config has no ${d.env}`).toBeDefined();
      expect({ ...d, default: variable!.parse(undefined) }).toEqual({ ...d, default: d.ms });
    }
  });
});
