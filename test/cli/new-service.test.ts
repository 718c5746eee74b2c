import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';
import { memoryIo, type CliIo } from '../../cli/cli-io.js';
import { newServiceCommand, type NewServiceFlags } from '../../cli/new-service.js';
import { UsageError, ValidationError, ValidationErrors } from '../../model/validation-error.js';

const work = mkdtempSync(join(tmpdir(), 'aio-new-service-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const platformYaml = PLATFORM_FIXTURE_YAML;

let n = 0;
/** A fresh folder under the test's tmp dir, holding a copy of the reference platform.yaml when asked. */
function sandbox(withPlatform = false): string {
  const dir = join(work, `case-${++n}`);
  mkdirSync(dir);
  if (withPlatform) writeFileSync(join(dir, 'platform.yaml'), platformYaml);
  return dir;
}

const base: NewServiceFlags = { route: [], calls: [], install: false, git: false, yes: true };

function run(io: CliIo, name: string | undefined, flags: Partial<NewServiceFlags>, deps = {}) {
  return newServiceCommand(io, name, { ...base, ...flags }, deps);
}

describe('aio new service', () => {
  test('rejects --yes with missing values, listing every missing flag', async () => {
    const cwd = sandbox();
    await expect(run(memoryIo(cwd), undefined, {})).rejects.toThrow(
      new UsageError(
        'missing required values: <name>, --owner <team>; pass them as flags, or run without --yes in an interactive terminal to be asked',
      ),
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('never prompts without a terminal, even without --yes', async () => {
    const asked: string[] = [];
    const ask = async (q: string) => (asked.push(q), 'x');
    await expect(run(memoryIo(sandbox()), 'review', { yes: false }, { ask })).rejects.toThrow(UsageError);
    expect(asked).toEqual([]);
  });

  test('rejects a bad name with a suggested corrected one, writing nothing', async () => {
    const cwd = sandbox();
    await expect(run(memoryIo(cwd), 'Review_Digest', { owner: 'team-growth' })).rejects.toThrow(
      /^service name 'Review_Digest' must be a DNS-1035 label.*; try 'review-digest'$/,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('rejects a name Kubernetes refuses for a Service (a leading digit), writing nothing', async () => {
    const cwd = sandbox(true);
    await expect(run(memoryIo(cwd), '1abc', { owner: 'team-growth' })).rejects.toThrow(
      /^service name '1abc' must be a DNS-1035 label, as Kubernetes requires of a Service name: .*; try 'svc-1abc'$/,
    );
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
  });

  test('refuses a non-empty target unless --force', async () => {
    const cwd = sandbox();
    mkdirSync(join(cwd, 'review'));
    writeFileSync(join(cwd, 'review', 'notes.txt'), 'mine');
    await expect(run(memoryIo(cwd), 'review', { owner: 'team-growth' })).rejects.toThrow(
      "target folder 'review' is not empty; choose another --out, or pass --force to write over it",
    );
    expect(readdirSync(join(cwd, 'review'))).toEqual(['notes.txt']);
    const io = memoryIo(cwd);
    expect(await run(io, 'review', { owner: 'team-growth', force: true })).toBe(0);
    // No platform.yaml: the CI and deploy/ placeholders are called out.
    expect(io.stderr.find((l) => l.startsWith('!'))).toMatch(
      /placeholder AWS account 000000000000;.*aio-service update --write$/,
    );
    expect(readFileSync(join(cwd, 'review', 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(cwd, 'review', '.aio', 'scaffold.json'))).toBe(true);
  });

  test('--dry-run prints the tree and writes nothing, not even platform.yaml', async () => {
    const cwd = sandbox(true);
    const io = memoryIo(cwd);
    expect(
      await run(io, 'review-digest', { owner: 'team-growth', dryRun: true, route: ['/api/digests'] }),
    ).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/^review-digest\/$/m);
    expect(out).toMatch(/── Dockerfile {2}\d+ B {2}\(managed\)$/m);
    expect(out).toMatch(/── example\.ts {2}\d+ B$/m);
    expect(out).toContain('would add services.review-digest to platform.yaml');
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
  });

  test('writes the repo, registers it in platform.yaml and makes the first commit', async () => {
    const cwd = sandbox(true);
    const io = memoryIo(cwd);
    const flags = {
      owner: 'team-growth',
      database: 'postgres',
      route: ['/api/digests'],
      calls: ['review'],
      git: true,
    };
    expect(await run(io, 'review-digest', flags)).toBe(0);
    expect(io.stderr).toEqual([
      '✔ wrote 21 files to review-digest (service template 1.2.0)',
      '✔ added services.review-digest to platform.yaml',
      '… git init',
      '✔ git init',
      '… git add',
      '✔ git add',
      '… git commit',
      '✔ git commit',
    ]);
    const repo = join(cwd, 'review-digest');
    const scaffold = JSON.parse(readFileSync(join(repo, '.aio', 'scaffold.json'), 'utf8')) as {
      answers: Record<string, unknown>;
    };
    // The platform's name, repo and first environment fill in what the flags did not say.
    expect(scaffold.answers).toMatchObject({ platformRepo: 'allinone/platform', account: '111111111111' });
    const tracked = execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
    expect(tracked).toHaveLength(21);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' })).toBe('');
    const platform = readFileSync(join(cwd, 'platform.yaml'), 'utf8');
    expect(platform.startsWith(platformYaml)).toBe(true);
    expect(platform.slice(platformYaml.length)).toContain('  review-digest:\n    owner: team-growth\n');
  });

  test('rejects a missing --platform file with a clear error, writing nothing', async () => {
    const cwd = sandbox();
    await expect(
      run(memoryIo(cwd), 'review-digest', { owner: 'team-growth', platform: 'nope/platform.yaml' }),
    ).rejects.toThrow(
      'nope/platform.yaml: file not found; run aio in the platform repo or pass --platform <path to platform.yaml>',
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('writes nothing when the platform.yaml change would not validate', async () => {
    const cwd = sandbox(true);
    await expect(
      run(memoryIo(cwd), 'review-digest', { owner: 'team-growth', calls: ['reviews'] }),
    ).rejects.toThrow(ValidationErrors);
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
  });

  test('names a failed step and keeps the files written', async () => {
    const cwd = sandbox();
    const path = process.env.PATH;
    process.env.PATH = sandbox(); // an empty folder: no npm on the PATH
    try {
      const io = memoryIo(cwd);
      const failure = run(io, 'review', { owner: 'team-growth', install: true, git: true });
      await expect(failure).rejects.toThrow(ValidationError);
      await expect(failure).rejects.toThrow(
        "step 'npm install' failed: 'npm' is not installed; the files written so far are kept in review; fix the problem and run 'npm install --no-audit --no-fund' there",
      );
      expect(io.stderr.at(-1)).toBe('… npm install');
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(join(cwd, 'review', 'package.json'))).toBe(true);
    expect(existsSync(join(cwd, 'review', '.git'))).toBe(false);
  });

  test('prompts in a terminal, and only for the values no flag gave', async () => {
    const cwd = sandbox();
    const asked: string[] = [];
    const replies: Record<string, string> = {
      service: 'Review Digest',
      try: 'review-digest',
      database: 'postgres',
    };
    const ask = async (question: string, defaultValue?: string) => {
      asked.push(question);
      if (question.startsWith('service name'))
        return asked.length === 1 ? replies.service! : (defaultValue ?? '');
      if (question.startsWith('database')) return replies.database!;
      return defaultValue ?? '';
    };
    const io = { ...memoryIo(cwd), interactive: true };
    expect(await run(io, undefined, { yes: false, owner: 'team-growth', cache: 'none' }, { ask })).toBe(0);
    expect(asked.map((q) => q.split(' (')[0])).toEqual([
      'service name',
      'service name', // the bad name was refused, and its correction offered as the default
      'database',
      'gateway route paths, comma-separated',
      'services it calls, comma-separated',
    ]);
    const scaffold = JSON.parse(
      readFileSync(join(cwd, 'review-digest', '.aio', 'scaffold.json'), 'utf8'),
    ) as {
      answers: Record<string, unknown>;
    };
    expect(scaffold.answers).toMatchObject({ name: 'review-digest', database: 'postgres', cache: 'none' });
  });
});
