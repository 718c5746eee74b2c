import { Option, type Command } from 'commander';
import type { CliIo } from './cli-io.js';
import type { Ask } from '../templates/resolve-answers.js';
import type { ServiceTemplate } from '../templates/render-service.js';

/** The flags of `aio new service`, as commander parses them. */
export interface NewServiceFlags {
  readonly out?: string;
  readonly owner?: string;
  readonly database?: string;
  readonly cache?: string;
  readonly route: string[];
  readonly calls: string[];
  readonly platform?: string;
  readonly install: boolean;
  readonly git: boolean;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly force?: boolean;
}

/** What tests swap out: the template folder and the terminal prompt. */
export interface NewServiceDeps {
  /** @default - the built-in templates/service */
  readonly template?: ServiceTemplate;
  /** @default - a readline prompt on stdin/stderr when `io.interactive` */
  readonly ask?: Ask;
}

const collect = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** `aio new service <name>`: generates a service repo from the service template. */
export function registerNew(program: Command, io: CliIo, done: (code: number) => void): void {
  const group = program
    .command('new')
    .description('create a new repo from a template (see: aio new service --help)');
  group
    .command('service')
    .description(
      'generate a service repo (Fastify on @aio/kit, tests, Dockerfile, cdk8s deploy/, CI) and add it to platform.yaml',
    )
    .argument('[name]', 'service name: a DNS-1035 label (a letter first) of at most 40 characters')
    .option('--out <dir>', 'folder to generate into (default: ./<name>)')
    .option('--owner <team>', "owning team, e.g. 'team-growth'")
    .addOption(new Option('--database <kind>', 'its own database').choices(['postgres', 'none']))
    .addOption(new Option('--cache <kind>', 'its own Redis').choices(['redis', 'none']))
    .addOption(
      new Option('--route <path>', 'gateway path prefix it serves (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .addOption(
      new Option('--calls <service>', 'service it calls (repeatable)').argParser(collect).default([], 'none'),
    )
    .option(
      '--platform <file>',
      'platform.yaml to add the service to (default: ./platform.yaml when present)',
    )
    .option('--no-install', 'skip npm install')
    .option('--no-git', 'skip git init and the first commit')
    .option('--dry-run', 'print the files that would be written, and write nothing')
    .option('-y, --yes', 'never prompt: fail listing any missing required value')
    .option('--force', 'write into a non-empty folder')
    .action(async (name: string | undefined, flags: NewServiceFlags) =>
      done(await newServiceCommand(io, name, flags)),
    );
}

/**
 * Runs `aio new service`. Order matters: every check and the whole render happen in memory
 * before the first write, so a refused run leaves nothing behind; side effects (install, git)
 * come last, and a failed one keeps the files written.
 */
export async function newServiceCommand(
  io: CliIo,
  name: string | undefined,
  flags: NewServiceFlags,
  deps: NewServiceDeps = {},
): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { writeFile } = await import('node:fs/promises');
  const { basename, relative, resolve } = await import('node:path');
  const { ValidationError } = await import('../model/validation-error.js');
  const { resolveAnswers } = await import('../templates/resolve-answers.js');
  const { checkAnswers, checkServiceName } = await import('../templates/service-answers.js');
  const { isManaged, loadServiceTemplate, renderService } = await import('../templates/render-service.js');
  const { formatTree, isEmptyFolder, writeFileMap } = await import('../templates/file-map.js');
  const { parsePlatform } = await import('../model/load-platform.js');
  const { readPlatformSource } = await import('./platform-file.js');

  // 1. Answers: flags, then prompts (interactive only), then the platform's values and defaults.
  const platformFlag =
    flags.platform ?? (existsSync(resolve(io.cwd, 'platform.yaml')) ? 'platform.yaml' : undefined);
  // Read once: the same text is validated now and spliced later, so both see one version.
  const source = platformFlag ? await readPlatformSource(io, platformFlag, '--platform') : undefined;
  const platform = source ? parsePlatform(source.text, { file: source.shown }) : undefined;
  if (name !== undefined) checkServiceName(name);
  const ask = flags.yes || !io.interactive ? undefined : (deps.ask ?? (await terminalAsk()));
  const answers = await resolveAnswers(
    {
      name,
      owner: flags.owner,
      database: flags.database,
      cache: flags.cache,
      routes: flags.route,
      calls: flags.calls,
    },
    { platform, ask, warn: (m) => io.err(m) },
  );
  checkAnswers(answers);

  // 2. Target folder.
  const target = resolve(io.cwd, flags.out ?? answers.name);
  const shown = relative(io.cwd, target).startsWith('..') ? target : relative(io.cwd, target) || '.';
  if (!flags.force && !(await isEmptyFolder(target))) {
    throw new ValidationError(
      `target folder '${shown}' is not empty; choose another --out, or pass --force to write over it`,
    );
  }

  // 3. Render in memory, and the platform.yaml change, validated, before any write.
  const template = deps.template ?? loadServiceTemplate();
  const files = renderService(answers, template);
  let registration: { file: string; text: string } | undefined;
  if (source) {
    const { registerService } = await import('../templates/platform-registration.js');
    const { text } = registerService(source.text, answers, source.shown);
    registration = { file: source.abs, text };
  }

  if (flags.dryRun) {
    io.out(formatTree(shown === '.' ? basename(target) : shown, files, (p) => isManaged(template, p)));
    io.out(`${files.size} files; dry run, nothing written`);
    if (registration) io.out(`would add services.${answers.name} to ${source!.shown}`);
    return 0;
  }

  // 4. Write, then side effects; each prints a progress line.
  await writeFileMap(target, files);
  io.err(`✔ wrote ${files.size} files to ${shown} (service template ${template.version})`);
  if (registration) {
    await writeFile(registration.file, registration.text);
    io.err(`✔ added services.${answers.name} to ${source!.shown}`);
  }
  if (!platform) {
    io.err(
      `! no platform.yaml here and no --platform: ci.yml and deploy/ use the placeholder AWS account ` +
        `${answers.account}; set answers.account in the repo's .aio/scaffold.json, then run npx aio-service update --write`,
    );
  }
  if (flags.install) {
    await step(io, 'npm install', target, shown, ['npm', ['install', '--no-audit', '--no-fund']]);
  }
  if (flags.git) {
    await step(io, 'git init', target, shown, ['git', ['init', '--quiet', '--initial-branch=main']]);
    await step(io, 'git add', target, shown, ['git', ['add', '--all']]);
    await step(io, 'git commit', target, shown, [
      'git',
      [
        'commit',
        '--quiet',
        '--no-verify',
        '-m',
        `Generate ${answers.name} with aio new service (service template ${template.version})`,
      ],
    ]);
  }
  io.out(
    `created ${answers.name} in ${shown}; next: cd ${shown}${flags.install ? '' : ' && npm install'} && npm test (see README.md)`,
  );
  return 0;
}

/** Runs one side-effect step; on failure it names the step and keeps the files. */
async function step(
  io: CliIo,
  label: string,
  cwd: string,
  shown: string,
  [cmd, args]: [string, string[]],
): Promise<void> {
  const { ValidationError } = await import('../model/validation-error.js');
  io.err(`… ${label}`);
  let result = await spawnQuietly(cmd, args, cwd);
  if (result.code !== 0 && cmd === 'git' && /tell me who you are|identity unknown/i.test(result.output)) {
    // No git identity (CI, fresh machines): commit as aio rather than fail the scaffold.
    result = await spawnQuietly(cmd, ['-c', 'user.name=aio', '-c', 'user.email=aio@localhost', ...args], cwd);
  }
  if (result.code !== 0) {
    const why =
      result.code === 'ENOENT'
        ? `'${cmd}' is not installed`
        : (lastLine(result.output) ?? `exit code ${result.code}`);
    throw new ValidationError(
      `step '${label}' failed: ${why}; the files written so far are kept in ${shown}; fix the problem and run '${[cmd, ...args].join(' ')}' there`,
    );
  }
  io.err(`✔ ${label}`);
}

/** Runs a command with stdin closed, collecting stdout and stderr; `code` is 'ENOENT' when it is missing. */
async function spawnQuietly(
  cmd: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number | string; output: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err: NodeJS.ErrnoException) => done({ code: err.code ?? err.message, output: '' }));
    child.on('close', (code) => done({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

function lastLine(text: string | undefined): string | undefined {
  return text?.trim().split('\n').filter(Boolean).at(-1)?.trim();
}

async function terminalAsk(): Promise<Ask> {
  const { createInterface } = await import('node:readline/promises');
  return async (question, defaultValue) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const reply = await rl.question(`? ${question}${defaultValue ? ` (${defaultValue})` : ''}: `);
      return reply.trim() || (defaultValue ?? '');
    } finally {
      rl.close();
    }
  };
}
