import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readmeBlocks, splitWords, type ReadmeCommand } from './readme-commands.js';
import { scratchCheckout, type ScratchCheckout } from './scratch-checkout.js';

// Every command in README.md's fenced sh blocks runs as written, in a scratch copy of this
// checkout (so platform.yaml edits and generated repos never leak), or is dry-run where running
// is impossible here, by a rule below that says why. The README is read when the suite starts:
// a command no rule knows fails, naming its line, until a rule says how to check it.
const root = fileURLToPath(new URL('../../', import.meta.url));
const README = 'README.md';
const blocks = readmeBlocks(readFileSync(join(root, README), 'utf8'));

interface Outcome {
  readonly exitCode: number | undefined;
  readonly all: string;
}

/** One sh block's shell: its working directory carries over from command to command, as `cd` does. */
interface Shell {
  readonly scratch: string;
  cwd: string;
  run(file: string, args: readonly string[]): Promise<Outcome>;
}

/**
 * How a README command is checked. Without `dryRun` it runs as written; with it, `check` does
 * the closest thing that can run here, for the reason given.
 */
interface Rule {
  readonly matches: (words: readonly string[]) => boolean;
  readonly dryRun?: string;
  readonly check: (cmd: ReadmeCommand, shell: Shell) => Promise<void>;
}

function fail(cmd: ReadmeCommand, what: string, outcome?: Outcome): never {
  const output = outcome ? `\n${outcome.all.split('\n').slice(-40).join('\n')}` : '';
  throw new Error(`${README}:${cmd.line}: \`${cmd.text}\` ${what}${output}`);
}

async function mustSucceed(cmd: ReadmeCommand, shell: Shell, file: string, args: readonly string[]) {
  const outcome = await shell.run(file, args);
  const how =
    [file, ...args].join(' ') === cmd.words.join(' ') ? '' : ` (checked as \`${[file, ...args].join(' ')}\`)`;
  if (outcome.exitCode !== 0) fail(cmd, `exited ${outcome.exitCode}${how}:`, outcome);
  return outcome;
}

/** What npx runs for `bin`: the nearest node_modules/.bin/<bin> at or above `cwd`. */
function localBin(cwd: string, bin: string): string | undefined {
  for (let dir = cwd; ; dir = resolve(dir, '..')) {
    const candidate = join(dir, 'node_modules', '.bin', bin);
    if (existsSync(candidate)) return candidate;
    if (dir === resolve(dir, '..')) return undefined;
  }
}

/** Runs `npx <bin> args` as npx does for an installed bin, refusing a download from the registry. */
async function runNpx(cmd: ReadmeCommand, shell: Shell, args: readonly string[]) {
  const [bin, ...rest] = args;
  const path = localBin(shell.cwd, bin!);
  if (!path)
    fail(cmd, `would make npx download '${bin}' from the registry: no node_modules/.bin/${bin} here`);
  return mustSucceed(cmd, shell, path, rest);
}

const helpCache = new Map<string, Promise<Outcome>>();
/** Checks that every `--flag` / `-f` of the command appears in `<tool> <sub> --help`. */
async function flagsExist(cmd: ReadmeCommand, shell: Shell, tool: string[], sub: string) {
  const key = [...tool, sub].join(' ');
  if (!helpCache.has(key))
    helpCache.set(key, shell.run(localBin(shell.cwd, tool[0]!) ?? tool[0]!, [sub, '--help']));
  const help = await helpCache.get(key)!;
  if (help.exitCode !== 0) fail(cmd, `could not be checked: \`${key} --help\` exited ${help.exitCode}`, help);
  for (const word of cmd.words.filter((w) => /^--?[a-zA-Z]/.test(w))) {
    const flag = word.split('=')[0]!;
    const listed = (f: string) =>
      new RegExp(`(^|[\\s,\\[])${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s,=\\]]|$)`, 'm').test(
        help.all,
      );
    // yargs (cdk) lists a boolean once and accepts --no-<flag> too.
    if (!listed(flag) && !(flag.startsWith('--no-') && listed(`--${flag.slice(5)}`))) {
      fail(cmd, `uses ${flag}, which \`${key}\` does not have (see \`${key} --help\`)`);
    }
  }
}

const synthCache = new Map<string, Promise<void>>();

/** The first rule that matches a command's words decides how it is checked. */
const RULES: readonly Rule[] = [
  {
    matches: ([w]) => w === 'cd',
    check: async (cmd, shell) => {
      const target = resolve(shell.cwd, cmd.words[1] ?? '');
      if (!existsSync(target)) fail(cmd, `: ${target} does not exist`);
      shell.cwd = target;
    },
  },
  {
    matches: ([a, b]) => a === 'npm' && b === 'ci',
    dryRun:
      'npm ci would replace the node_modules this suite runs from; --dry-run still fails when package-lock.json is out of sync with package.json',
    check: async (cmd, shell) => {
      await mustSucceed(cmd, shell, 'npm', [
        ...cmd.words.slice(1),
        '--dry-run',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
      ]);
    },
  },
  {
    matches: ([a, b, c]) => a === 'npm' && (b === 'test' || (b === 'run' && c !== 'build')),
    dryRun:
      '`npm test` is this suite, `npm run dev` runs until Ctrl-C and the benches take minutes: the script must exist',
    check: async (cmd, shell) => {
      const script = cmd.words[1] === 'test' ? 'test' : cmd.words[2]!;
      const pkg = JSON.parse(readFileSync(join(shell.cwd, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      };
      if (!pkg.scripts?.[script]) fail(cmd, `: ${join(shell.cwd, 'package.json')} has no '${script}' script`);
    },
  },
  {
    matches: ([a, b, c]) => a === 'npm' && b === 'run' && c === 'build',
    check: async (cmd, shell) => void (await mustSucceed(cmd, shell, 'npm', cmd.words.slice(1))),
  },
  {
    matches: ([a, b]) => a === 'npx' && b === 'aio-service',
    dryRun:
      "in a service repo, aio-service is the installed dev dependency @aio/service-chart; here, the same bundle from this checkout's packages/service-chart",
    check: async (cmd, shell) => {
      const bin = join(shell.scratch, 'packages/service-chart/lib/bin/aio-service.js');
      await mustSucceed(cmd, shell, process.execPath, [bin, ...cmd.words.slice(2)]);
    },
  },
  {
    matches: ([a, b, c]) => a === 'npx' && b === 'aio' && c === 'dev',
    dryRun: 'aio dev runs the stack until Ctrl-C: its flags must exist',
    check: (cmd, shell) => flagsExist(cmd, shell, ['aio'], 'dev'),
  },
  {
    matches: ([a, b, c, d]) => a === 'npx' && b === 'aio' && c === 'new' && d === 'service',
    dryRun:
      "the generated repo's npm install needs @aio/* from the company registry (test/cli/new-service.e2e.test.ts installs it from packed tarballs): run with --no-install",
    check: async (cmd, shell) => {
      const args = cmd.words.slice(1);
      await runNpx(cmd, shell, args.includes('--no-install') ? args : [...args, '--no-install']);
    },
  },
  {
    matches: ([a, b, c]) =>
      a === 'npx' && b === 'cdk' && ['diff', 'deploy', 'destroy', 'bootstrap'].includes(c!),
    dryRun:
      "needs AWS credentials and an account: the flags must exist, and `cdk synth` of the same app and context must pass (it runs cdk.json's build first)",
    check: async (cmd, shell) => {
      await flagsExist(cmd, shell, ['cdk'], cmd.words[2]!);
      const synthArgs: string[] = [];
      const words = cmd.words.slice(3);
      for (let i = 0; i < words.length; i++) {
        if (['-c', '--context', '-a', '--app'].includes(words[i]!))
          synthArgs.push(words[i]!, words[++i] ?? '');
        else if (/^--(context|app)=/.test(words[i]!)) synthArgs.push(words[i]!);
      }
      const key = synthArgs.join(' ');
      if (!synthCache.has(key)) {
        synthCache.set(
          key,
          runNpx(cmd, shell, ['cdk', 'synth', '--quiet', ...synthArgs]).then(() => undefined),
        );
      }
      await synthCache.get(key);
    },
  },
  {
    matches: ([a, b]) => a === 'npx' && (b === 'aio' || b === 'cdk'),
    check: async (cmd, shell) => void (await runNpx(cmd, shell, cmd.words.slice(1))),
  },
  {
    matches: ([a]) => a === 'bash',
    dryRun: '.ci/run is all of CI (install, lint, every test): bash -n checks that it parses',
    check: async (cmd, shell) => void (await mustSucceed(cmd, shell, 'bash', ['-n', ...cmd.words.slice(1)])),
  },
];

describe('README.md commands', () => {
  let scratch: ScratchCheckout;
  beforeAll(() => {
    if (!existsSync(join(root, 'lib', 'bin', 'aio.js')))
      throw new Error('lib/ is missing: run npm run build first');
    scratch = scratchCheckout(root);
  }, 120_000);
  afterAll(() => scratch?.remove());

  test('the README has sh blocks, and each command has a rule', () => {
    expect(blocks.length).toBeGreaterThan(2);
    const unknown = blocks
      .flatMap((b) => b.commands)
      .filter((c) => !RULES.some((r) => r.matches(c.words)))
      .map(
        (c) =>
          `${README}:${c.line}: \`${c.text}\`: no rule in test/readme/readme-commands.test.ts says how to run or dry-run it; add one`,
      );
    expect(unknown).toEqual([]);
  });

  for (const block of blocks) {
    describe(`block "${block.heading}" (${README}:${block.line})`, () => {
      const shell: Shell = {
        scratch: '',
        cwd: '',
        run: async (file, args) => {
          const r = await execa(file, args, {
            cwd: shell.cwd,
            all: true,
            reject: false,
            timeout: 240_000,
            stdin: 'ignore',
            env: { NO_COLOR: '1', FORCE_COLOR: '0' },
          });
          return { exitCode: r.exitCode, all: r.all ?? '' };
        },
      };
      beforeAll(() => {
        // Each block starts from the checkout as committed, at its root, as a reader would.
        scratch.reset();
        Object.assign(shell, { scratch: scratch.dir, cwd: scratch.dir });
      });
      for (const cmd of block.commands) {
        test(`${README}:${cmd.line} ${cmd.text}`, async () => {
          const rule = RULES.find((r) => r.matches(cmd.words));
          if (!rule) fail(cmd, ': no rule says how to run or dry-run it');
          await rule.check(cmd, shell);
        }, 300_000);
      }
      // The README says to re-run `aio synth` after every change to platform.yaml: what its
      // commands wrote (aio route, aio new service) must pass every gate of that synth.
      test(`after the block: a platform.yaml its commands edited synthesizes with every gate passing`, async () => {
        const edited = readFileSync(join(shell.scratch, 'platform.yaml'), 'utf8');
        if (edited === readFileSync(join(root, 'platform.yaml'), 'utf8')) return;
        const aio = localBin(shell.scratch, 'aio')!;
        const r = await execa(aio, ['synth'], {
          cwd: shell.scratch,
          all: true,
          reject: false,
          env: { NO_COLOR: '1' },
        });
        expect(r.exitCode, r.all?.split('\n').slice(-20).join('\n')).toBe(0);
      }, 300_000);
    });
  }

  describe('cdk.json', () => {
    test('cdk builds before it runs the app: an edit to the sources reaches the synth', async () => {
      scratch.reset();
      const app = join(scratch.dir, 'bin', 'cdk-app.ts');
      writeFileSync(
        app,
        readFileSync(app, 'utf8') + "\nconsole.error('readme-test: the app was rebuilt');\n",
      );
      const r = await execa(localBin(scratch.dir, 'cdk')!, ['ls', '-c', 'env=dev'], {
        cwd: scratch.dir,
        all: true,
        reject: false,
        env: { NO_COLOR: '1' },
      });
      expect({ exitCode: r.exitCode, rebuilt: r.all?.includes('readme-test: the app was rebuilt') }).toEqual({
        exitCode: 0,
        rebuilt: true,
      });
      expect(r.all).toMatch(/^allinone-dev-network$/m);
    }, 300_000);
  });
});

describe('readmeBlocks', () => {
  test('joins continuations, drops comments, splits on && and keeps quoted words whole', () => {
    const md = [
      '# T',
      '```sh',
      'npm ci && npx aio synth    # install # and synth',
      'npx aio new service a --owner "team a" \\',
      "  --route '/api/#x' --yes",
      '```',
      '```',
      'not a shell block',
      '```',
    ].join('\n');
    const [block, ...rest] = readmeBlocks(md);
    expect(rest).toEqual([]);
    expect(block!.heading).toBe('T');
    expect(block!.commands).toEqual([
      { line: 3, text: 'npm ci', words: ['npm', 'ci'] },
      { line: 3, text: 'npx aio synth', words: ['npx', 'aio', 'synth'] },
      {
        line: 4,
        text: `npx aio new service a --owner "team a" --route '/api/#x' --yes`,
        words: ['npx', 'aio', 'new', 'service', 'a', '--owner', 'team a', '--route', '/api/#x', '--yes'],
      },
    ]);
  });

  test('throws on shell syntax beyond plain commands', () => {
    expect(() => splitWords('npx aio routes | head')).toThrow("'|' in `npx aio routes | head`");
    expect(() => splitWords('echo "open')).toThrow('unclosed "');
  });
});
