import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import type * as Program from '../../cli/program.js';
import { renderPlatformWorkflows } from '../../pipelines/generated-files.js';
import { GENERATED_MARKER } from '../../pipelines/workflow.js';
import { fixtureModel, PLATFORM_FIXTURE_FILE, PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI (npm test builds first), run in-process: it reads its version from package.json. */
async function aio(cwd: string, ...args: string[]) {
  const program = join(ROOT, 'lib/cli/program.js');
  const { runCli } = (await import(program)) as typeof Program;
  const io = memoryIo(cwd);
  const code = await runCli(['node', 'aio', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'aio-pipelines-'));
  cpSync(PLATFORM_FIXTURE_FILE, join(work, 'platform.yaml'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('aio pipelines', () => {
  test('--write then --check round trips; drift, stale and extra generated files fail --check', async () => {
    const missing = await aio(work, 'pipelines', '--check');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing: .github/workflows/deploy.yml');
    expect(missing.stderr).toContain('run aio pipelines --write');

    const wrote = await aio(work, 'pipelines', '--write');
    expect(wrote.code).toBe(0);
    expect(wrote.stdout).toBe(
      'wrote: .github/workflows/deploy.yml\nwrote: .github/workflows/pull-request.yml\nwrote: .github/workflows/release.yml',
    );
    expect(readFileSync(join(work, '.github/workflows/deploy.yml'), 'utf8')).toBe(
      renderPlatformWorkflows(fixtureModel()).get('.github/workflows/deploy.yml'),
    );
    expect((await aio(work, 'pipelines', '--check')).code).toBe(0);

    const dir = join(work, '.github/workflows');
    writeFileSync(
      join(dir, 'deploy.yml'),
      readFileSync(join(dir, 'deploy.yml'), 'utf8').replace('--require-approval never', ''),
    );
    writeFileSync(join(dir, 'old.yml'), `${GENERATED_MARKER}\nname: old\n`);
    writeFileSync(join(dir, 'hand-written.yml'), 'name: mine\non: push\n');
    const drift = await aio(work, 'pipelines', '--check');
    expect(drift.code).toBe(1);
    expect(drift.stderr.split('\n').slice(0, 2)).toEqual([
      'changed: .github/workflows/deploy.yml',
      'extra: .github/workflows/old.yml',
    ]);

    const fixed = await aio(work, 'pipelines', '--write');
    expect(fixed.stdout).toBe('wrote: .github/workflows/deploy.yml\nremoved: .github/workflows/old.yml');
    expect(existsSync(join(dir, 'hand-written.yml'))).toBe(true);
    expect((await aio(work, 'pipelines', '--check')).code).toBe(0);
  });

  test('a platform.yaml change (a new environment) shows up as drift', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'aio-pipelines-env-'));
    try {
      writeFileSync(join(copy, 'platform.yaml'), PLATFORM_FIXTURE_YAML);
      expect((await aio(copy, 'pipelines', '--write')).code).toBe(0);
      const yaml = PLATFORM_FIXTURE_YAML.replace(
        'environments:\n',
        "environments:\n  staging:\n    account: '333333333333'\n    region: ap-northeast-2\n    size: small\n",
      );
      writeFileSync(join(copy, 'platform.yaml'), yaml);
      const r = await aio(copy, 'pipelines', '--check');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('changed: .github/workflows/deploy.yml');
      expect(r.stderr).toContain('changed: .github/workflows/pull-request.yml');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('rejects --check together with --write with exit 2', async () => {
    const r = await aio(work, 'pipelines', '--check', '--write');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --check and --write cannot be used together; pick one');
  });

  test('summary renders the PR comment from routes JSON and cdk diff files', async () => {
    const before = await aio(work, 'routes', '--json');
    writeFileSync(join(work, 'before.json'), before.stdout);
    writeFileSync(
      join(work, 'platform.yaml'),
      readFileSync(join(work, 'platform.yaml'), 'utf8').replace(
        '{ path: /api/orders, servicePath: /orders, weight: 25 }',
        '{ path: /api/orders, servicePath: /orders, weight: 50 }',
      ),
    );
    writeFileSync(join(work, 'after.json'), (await aio(work, 'routes', '--json')).stdout);
    mkdirSync(join(work, 'cdk-diff/cdk-diff-dev'), { recursive: true });
    writeFileSync(
      join(work, 'cdk-diff/cdk-diff-dev/dev.txt'),
      'Stack allinone-dev-svc-order\nResources\n[+] AWS::SQS::Queue Q Q1\n',
    );
    const r = await aio(
      work,
      'pipelines',
      'summary',
      '--routes-before',
      'before.json',
      '--routes-after',
      'after.json',
      '--diff-dir',
      'cdk-diff',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| dev | allinone-dev-svc-order | 1 | 0 | 0 | 0 |');
    expect(r.stdout).toContain('| /api/orders | order | 25% | 50% | 50% |');
  });

  test('summary rejects a routes file that is not JSON', async () => {
    writeFileSync(join(work, 'bad.json'), 'PATH SERVICE');
    const r = await aio(
      work,
      'pipelines',
      'summary',
      '--routes-before',
      'bad.json',
      '--routes-after',
      'bad.json',
    );
    expect(r.code).toBe(1); // a bad file, not a bad flag
    expect(r.stderr).toMatch(/^bad\.json: cannot read routes \(.*\); pass the output of aio routes --json$/);
  });
});
