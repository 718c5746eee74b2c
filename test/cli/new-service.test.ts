import { execFileSync } from 'node:child_process';
import {
  chmodSync,
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
import { parsePlatform } from '../../model/load-platform.js';
import { ServiceChart } from '../../charts/service-chart.js';
import { reportError } from '../../cli/program.js';
import { CANCELLED, PromptCancelled } from '../../templates/prompter.js';
import { scriptedPrompter } from './scripted-prompter.js';

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
    const { prompter, asked } = scriptedPrompter(['x']);
    await expect(run(memoryIo(sandbox()), 'review', { yes: false }, { prompter })).rejects.toThrow(
      UsageError,
    );
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
    // platform.yaml is written last, once the repo and its first commit exist.
    expect(io.stderr).toEqual([
      '✔ wrote 23 files to review-digest (service template 1.6.0)',
      '… git init',
      '✔ git init',
      '… git add',
      '✔ git add',
      '… git commit',
      '✔ git commit',
      '✔ added services.review-digest to platform.yaml',
    ]);
    const repo = join(cwd, 'review-digest');
    const scaffold = JSON.parse(readFileSync(join(repo, '.aio', 'scaffold.json'), 'utf8')) as {
      answers: Record<string, unknown>;
    };
    // The platform's name, repo and first environment fill in what the flags did not say.
    expect(scaffold.answers).toMatchObject({ platformRepo: 'allinone/platform', account: '111111111111' });
    // ...and its token issuer, which the service's own synth gives the chart as the platform's does
    expect(scaffold.answers).toMatchObject({
      issuer: 'https://login.allinone.example/',
      audience: 'allinone-shop',
      jwksUri: 'https://login.allinone.example/.well-known/jwks.json',
    });
    expect(readFileSync(join(repo, 'deploy', 'main.ts'), 'utf8')).toContain(
      "tokenIssuer: TokenIssuer.of({ issuer: 'https://login.allinone.example/', audience: 'allinone-shop', jwksUri: 'https://login.allinone.example/.well-known/jwks.json' }),",
    );
    // the example route is a customer route: routable (public: true), no auth level given
    expect(readFileSync(join(repo, 'src', 'routes', 'example.ts'), 'utf8')).toContain(
      "app.get('/api/digests', { config: { public: true } }",
    );
    const tracked = execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
    expect(tracked).toHaveLength(23);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' })).toBe('');
    const platform = readFileSync(join(cwd, 'platform.yaml'), 'utf8');
    expect(platform.startsWith(platformYaml)).toBe(true);
    expect(platform.slice(platformYaml.length)).toContain('  review-digest:\n    owner: team-growth\n');
    // registered with the route at its default auth, customer: the gateway checks the same issuer
    const model = parsePlatform(platform, { file: 'platform.yaml' });
    expect(model.routes().find((r) => r.service === 'review-digest')).toMatchObject({
      path: '/api/digests',
      weight: 0,
      auth: 'customer',
    });
    // and the platform's own synth of it gives the kit the issuer the repo's deploy/ names
    const props = ServiceChart.propsFromModel(model, model.environments[0]!.name, 'review-digest');
    expect(props.tokenIssuer?.values).toEqual({
      issuer: scaffold.answers.issuer,
      audience: scaffold.answers.audience,
      jwksUri: scaffold.answers.jwksUri,
    });
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

  test('rolls back a failed step: no folder, platform.yaml unchanged, so the same command can run again', async () => {
    const cwd = sandbox(true);
    const path = process.env.PATH;
    process.env.PATH = sandbox(); // an empty folder: no npm on the PATH
    try {
      const io = memoryIo(cwd);
      const failure = run(io, 'review-digest', { owner: 'team-growth', install: true, git: true });
      await expect(failure).rejects.toThrow(ValidationError);
      await expect(failure).rejects.toThrow(
        "step 'npm install' failed: 'npm' is not installed; nothing was left behind (removed review-digest; platform.yaml is unchanged); install npm and run again",
      );
      expect(io.stderr.at(-1)).toBe('… npm install');
    } finally {
      process.env.PATH = path;
    }
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
    expect(await run(memoryIo(cwd), 'review-digest', { owner: 'team-growth', git: true })).toBe(0);
  });

  test("shows npm's own error output, every line of it, and rolls back", async () => {
    const cwd = sandbox(true);
    const io = memoryIo(cwd);
    const failure = run(io, 'review-digest', { owner: 'team-growth', install: true }).finally(
      () => undefined,
    );
    const path = process.env.PATH;
    process.env.PATH = `${fakeNpm([
      'npm error code E404',
      "npm error 404 Not Found - GET https://allinone-111111111111.d.codeartifact.ap-northeast-1.amazonaws.com/npm/npm/@aio%2fkit - Package '@aio/kit' not found",
      'npm error 404',
      "npm error 404  '@aio/kit@^0.2.0' is not in this registry.",
    ])}:${path}`;
    try {
      await expect(failure).rejects.toThrow(
        /^step 'npm install' failed \(exit 1\); nothing was left behind \(removed review-digest; platform.yaml is unchanged\); @aio\/\* comes from the registry in \.npmrc: .*--local/,
      );
    } finally {
      process.env.PATH = path;
    }
    expect(io.stderr).toEqual(
      expect.arrayContaining([
        '✖ npm install (exit 1); its output:',
        '  npm error code E404',
        "  npm error 404  '@aio/kit@^0.2.0' is not in this registry.",
      ]),
    );
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
  });

  test("--force lists the template's files it overwrites, keeps the others, and restores both on a failure", async () => {
    const cwd = sandbox();
    mkdirSync(join(cwd, 'review', 'src'), { recursive: true });
    writeFileSync(join(cwd, 'review', 'notes.txt'), 'mine');
    writeFileSync(join(cwd, 'review', 'Dockerfile'), 'FROM scratch\n');
    const path = process.env.PATH;
    process.env.PATH = `${fakeNpm(['npm error code ERESOLVE'])}:${path}`;
    const io = memoryIo(cwd);
    try {
      await expect(run(io, 'review', { owner: 'team-growth', force: true, install: true })).rejects.toThrow(
        /restored review/,
      );
    } finally {
      process.env.PATH = path;
    }
    expect(io.stderr[0]).toBe('--force: overwriting 1 file(s) of the template: Dockerfile');
    expect(readdirSync(join(cwd, 'review')).sort()).toEqual(['Dockerfile', 'notes.txt', 'src']);
    expect(readFileSync(join(cwd, 'review', 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(readdirSync(join(cwd, 'review', 'src'))).toEqual([]);

    expect(await run(memoryIo(cwd), 'review', { owner: 'team-growth', force: true })).toBe(0);
    expect(readFileSync(join(cwd, 'review', 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(cwd, 'review', 'Dockerfile'), 'utf8')).toContain('USER 1000:1000');
  });

  test('a bad flag value is a usage error before any question or write', async () => {
    const cwd = sandbox();
    const { prompter, asked } = scriptedPrompter([]);
    const io = { ...memoryIo(cwd), interactive: true };
    await expect(run(io, 'review', { owner: 'Team Growth!', yes: false }, { prompter })).rejects.toThrow(
      new UsageError("--owner must be a team name such as 'team-commerce', got 'Team Growth!'"),
    );
    await expect(run(memoryIo(cwd), 'review', { owner: 'team-growth', route: ['api/x'] })).rejects.toThrow(
      UsageError,
    );
    await expect(
      run(memoryIo(cwd), 'review', { owner: 'team-growth', registry: 'ftp://nope' }),
    ).rejects.toThrow(/^--registry must be an npm registry URL/);
    expect(asked).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('prompts in a terminal for the values no flag gave, checking each answer as it is given', async () => {
    const cwd = sandbox(true);
    const { prompter, asked, notes } = scriptedPrompter([
      'Review Digest', // refused at once, with a suggestion
      'review-digest',
      'Team Growth!', // refused at once: the name is not lost
      'team-growth',
      'postgres', // select list
      '/api/digests',
      'reviews', // not a service of this platform
      'review',
      true, // the summary: create it
    ]);
    const io = { ...memoryIo(cwd), interactive: true };
    expect(await run(io, undefined, { yes: false, cache: 'none' }, { prompter })).toBe(0);
    expect(asked.map((a) => [a.kind, a.message.split(' (')[0], a.refused ?? 'ok'])).toEqual([
      [
        'text',
        'Service name',
        expect.stringMatching(/^service name 'Review Digest' must be .*; try 'review-digest'$/),
      ],
      ['text', 'Service name', 'ok'],
      ['text', 'Owning team', "must be a team name such as 'team-commerce'"],
      ['text', 'Owning team', 'ok'],
      ['select', 'Its own database', 'ok'],
      ['text', 'Gateway path prefixes, comma-separated', 'ok'],
      [
        'text',
        'Services it calls, comma-separated',
        expect.stringMatching(/^'reviews' names no service of this platform; known services are .*review/),
      ],
      ['text', 'Services it calls, comma-separated', 'ok'],
      ['confirm', 'Create it?', 'ok'],
    ]);
    // The summary came before the first write.
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/^service {3}review-digest \(owner team-growth\)$/m);
    expect(notes[0]!.message).toMatch(/^platform {2}adds services\.review-digest to platform\.yaml, last$/m);
    const scaffold = JSON.parse(
      readFileSync(join(cwd, 'review-digest', '.aio', 'scaffold.json'), 'utf8'),
    ) as {
      answers: Record<string, unknown>;
    };
    expect(scaffold.answers).toMatchObject({
      name: 'review-digest',
      database: 'postgres',
      cache: 'none',
      routes: ['/api/digests'],
      calls: ['review'],
      registry: 'https://allinone-111111111111.d.codeartifact.ap-northeast-1.amazonaws.com/npm/npm/',
    });
  });

  test('Ctrl-C at a prompt, or no at the summary, stops with nothing written', async () => {
    const cases: (string | boolean | typeof CANCELLED)[][] = [
      ['review-digest', CANCELLED],
      ['review-digest', 'team-growth', 'none', 'none', '', '', false],
    ];
    for (const replies of cases) {
      const cwd = sandbox(true);
      const { prompter } = scriptedPrompter(replies);
      const io = { ...memoryIo(cwd), interactive: true };
      await expect(run(io, undefined, { yes: false }, { prompter })).rejects.toThrow(PromptCancelled);
      expect(readdirSync(cwd)).toEqual(['platform.yaml']);
      expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(platformYaml);
    }
    const io = memoryIo(work);
    expect(await reportError(new PromptCancelled(), io, false)).toBe(130);
    expect(io.stderr).toEqual(['cancelled; nothing was written']);
  });
});

/** A folder with an `npm` that prints `lines` on stderr and exits 1, to put first on the PATH. */
function fakeNpm(lines: readonly string[]): string {
  const dir = sandbox();
  const script = join(dir, 'npm');
  writeFileSync(
    script,
    `#!/bin/sh\n${lines.map((l) => `echo ${JSON.stringify(l).replace(/\$/g, '\\$')} >&2`).join('\n')}\nexit 1\n`,
  );
  chmodSync(script, 0o755);
  return dir;
}
