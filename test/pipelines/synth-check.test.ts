import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';
import { parse, stringify } from 'yaml';
import { memoryIo } from '../../cli/cli-io.js';
import type * as Program from '../../cli/program.js';
import { distDrift, listFiles } from '../../pipelines/generated-files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function aio(cwd: string, ...args: string[]) {
  const { runCli } = (await import(join(ROOT, 'lib/cli/program.js'))) as typeof Program;
  const io = memoryIo(cwd, { GITHUB_ACTIONS: 'true' });
  const code = await runCli(['node', 'aio', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

/** The reference platform cut down to one environment and one service, so each synth is short. */
function smallPlatform(): string {
  const spec = parse(PLATFORM_FIXTURE_YAML) as {
    environments: Record<string, unknown>;
    legacy: { monolith: Record<string, unknown> };
    services: Record<string, unknown>;
  };
  spec.environments = { dev: spec.environments.dev };
  // written to a temp directory: the route contracts by absolute path
  spec.legacy.monolith.contract = join(ROOT, 'services/monolith/openapi.json');
  spec.services = {
    review: {
      ...(spec.services.review as object),
      database: 'none',
      contract: join(ROOT, 'services/review/openapi.json'),
    },
  };
  return stringify(spec);
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'aio-synth-check-test-'));
  writeFileSync(join(work, 'platform.yaml'), smallPlatform());
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('aio synth --check', () => {
  // Two synths in all: one to "commit" dist/, one for --check against a tampered copy.
  test('lists exactly the files that differ from a fresh synth, exit 1', async () => {
    const first = await aio(work, 'synth', '--env', 'dev');
    expect(first.code).toBe(0);
    const files = listFiles(join(work, 'dist/dev'));
    const manifests = files.filter((f) => f.startsWith('k8s/') && f.endsWith('.yaml'));
    expect(manifests.length).toBeGreaterThan(1);
    expect(files.some((f) => f.startsWith('cloudformation/') && f.endsWith('.template.json'))).toBe(true);

    // The committed copy stays clean: a synth compared with itself has no drift.
    const clean = join(work, 'clean');
    cpSync(join(work, 'dist'), clean, { recursive: true });
    expect(distDrift(clean, join(work, 'dist'), ['dev'])).toEqual({ missing: [], changed: [], extra: [] });

    const [changed, removed] = manifests;
    const dist = join(work, 'dist/dev');
    writeFileSync(join(dist, changed!), readFileSync(join(dist, changed!), 'utf8') + '# hand edit\n');
    rmSync(join(dist, removed!));
    writeFileSync(join(dist, 'k8s/zz-stale.yaml'), 'kind: ConfigMap\n');
    // The cloud assembly is a build artifact that is not committed: its absence is no drift.
    rmSync(join(dist, 'cloudformation'), { recursive: true });

    const check = await aio(work, 'synth', '--env', 'dev', '--check');
    expect(check.code).toBe(1);
    const drift = check.stderr.split('\n').filter((l) => /^(missing|changed|extra): /.test(l));
    // Nothing else differs: the second synth reproduced every other file byte for byte.
    expect(drift).toEqual([
      `missing: dist/dev/${removed}`,
      `changed: dist/dev/${changed}`,
      'extra: dist/dev/k8s/zz-stale.yaml',
    ]);
    expect(check.stderr).toContain('dist/ is out of date; run aio synth --env dev and commit dist/');
    // The diff of what changed, and a verdict that never says "passed" after a failed check.
    expect(check.stdout).toContain(`--- a/dist/dev/${changed}\n+++ b/dist/dev/${changed}\n`);
    expect(check.stdout).toMatch(/^-# hand edit$/m);
    expect(check.stdout).toContain(`--- /dev/null\n+++ b/dist/dev/${removed}\n`);
    expect(check.stdout).toContain('--- a/dist/dev/k8s/zz-stale.yaml\n+++ /dev/null\n');
    expect(check.stdout).not.toContain('gates: passed');
    expect(check.stdout.split('\n').at(-1)).toBe('gates: failed, dist/ out of date (3 files)');
    // In GitHub Actions, each file is also an annotation on it.
    expect(check.stderr).toContain(
      '::error file=dist/dev/k8s/zz-stale.yaml,title=aio synth --check::extra: differs from a fresh synth; run aio synth and commit dist/',
    );
    // --check never writes the committed output.
    expect(listFiles(dist)).toContain('k8s/zz-stale.yaml');
  }, 240_000);
});
