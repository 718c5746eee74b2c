import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { annotation, memoryIo } from '../../cli/cli-io.js';
import { runCli } from '../../cli/program.js';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

const work = mkdtempSync(join(tmpdir(), 'aio-ci-output-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// The frozen fixture (never the live platform.yaml), its contract paths made absolute for the temp dir.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const reference = PLATFORM_FIXTURE_YAML.replaceAll('contract: ../../', `contract: ${repoRoot}`);
// Two problems: a typo'd key and a weight out of range.
const broken = reference
  .replace('database: postgres\n    calls', 'databse: postgres\n    calls')
  .replace('weight: 25 }', 'weight: 150 }');
writeFileSync(join(work, 'broken.yaml'), broken);
writeFileSync(join(work, 'platform.yaml'), reference);

async function aio(env: Record<string, string>, ...args: string[]) {
  const io = memoryIo(work, env);
  const code = await runCli(['node', 'aio', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

describe('annotation', () => {
  test('escapes the message and the properties as the Actions runner parses them', () => {
    expect(annotation('error', '100% sure\r\nnext: line, two', { file: 'a,b:c.yaml', line: 3, col: 7 })).toBe(
      '::error file=a%2Cb%3Ac.yaml,line=3,col=7::100%25 sure%0D%0Anext: line, two',
    );
    expect(annotation('warning', 'plain')).toBe('::warning::plain');
  });
});

describe('CI-native output', () => {
  test('in GitHub Actions, every problem is also an ::error annotation at its file, line and column', async () => {
    const r = await aio({ GITHUB_ACTIONS: 'true' }, 'validate', '-f', 'broken.yaml');
    expect(r.code).toBe(1);
    const annotations = r.stderr.split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations).toEqual([
      expect.stringMatching(
        /^::error file=broken\.yaml,line=\d+,col=\d+,title=aio::broken\.yaml:\d+:\d+: services\.order\.databse: 'databse' is not a known key; did you mean 'database'\?$/,
      ),
      expect.stringMatching(
        /^::error file=broken\.yaml,line=\d+,col=\d+,title=aio::.*weight: must be an integer from 0 to 100, got 150$/,
      ),
    ]);
    // Outside Actions, no workflow commands.
    expect((await aio({}, 'validate', '-f', 'broken.yaml')).stderr).not.toContain('::error');
  });

  test.each([['validate'], ['synth', '--env', 'dev', '--out', 'never']])(
    '%s --json prints the errors as JSON on stdout, exit 1',
    async (...args) => {
      const r = await aio({}, ...args, '--json', '-f', 'broken.yaml');
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as {
        ok: boolean;
        exitCode: number;
        errors: Record<string, unknown>[];
      };
      expect(out).toMatchObject({ ok: false, exitCode: 1 });
      expect(out.errors).toEqual([
        expect.objectContaining({
          file: 'broken.yaml',
          line: expect.any(Number),
          col: expect.any(Number),
          path: 'services.order.databse',
        }),
        expect.objectContaining({ path: 'services.order.routes[0].weight' }),
      ]);
    },
  );

  test('validate --json prints the result when the file is good', async () => {
    const r = await aio({}, 'validate', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      file: 'platform.yaml',
      services: expect.any(Number),
    });
  });

  test.each([
    [
      ['new', 'service', 'review-digest', '--owner', 'Team Growth!', '--yes', '--no-install', '--no-git'],
      "--owner must be a team name such as 'team-commerce', got 'Team Growth!'",
    ],
    [
      ['new', 'service', 'review-digest', '--owner', 'team-growth', '--database', 'mysql', '--yes'],
      "argument 'mysql' is invalid",
    ],
    [
      ['route', 'order', '/api/orders', '--weight', '101'],
      "--weight must be an integer from 0 to 100, got '101'",
    ],
    [['synth', '--env', 'qa'], "--env must be one of dev, prod, all, got 'qa'"],
    [['synth', '--bogus'], "unknown option '--bogus'"],
    [['update', '--write', '--check'], '--write and --check cannot be used together'],
  ])('a bad flag or option value is a usage error, exit 2: %j', async (args, message) => {
    const r = await aio({}, ...args);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toContain(message);
    expect(readFileSync(join(work, 'platform.yaml'), 'utf8')).toBe(reference);
  });

  test('--json usage errors are JSON too, with exit code 2', async () => {
    const r = await aio({}, 'synth', '--env', 'qa', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      exitCode: 2,
      errors: [{ message: "--env must be one of dev, prod, all, got 'qa'" }],
    });
  });
});
