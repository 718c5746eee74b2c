import { Option, type Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { spawnQuietly, step, StepFailed } from './scaffold-steps.js';
import type { Prompter } from '../templates/prompter.js';
import type { PackedPackage } from '../templates/local-packages.js';
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
  /** npm registry for `@aio/*` (the generated `.npmrc`). */
  readonly registry?: string;
  /** Install the platform checkout's own `@aio/*` packages, packed, instead of the registry's. */
  readonly local?: boolean;
}

/** What tests swap out: the template folder, the terminal prompts and the packed packages. */
export interface NewServiceDeps {
  /** @default - the built-in templates/service */
  readonly template?: ServiceTemplate;
  /** @default - @clack/prompts on stderr when `io.interactive` */
  readonly prompter?: Prompter;
  /** For `--local`: packages packed already (the e2e test packs once for several runs). @default - npm pack now */
  readonly packed?: readonly PackedPackage[];
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
    .option('--registry <url>', "npm registry for @aio/* (default: the platform's CodeArtifact repository)")
    .option('--local', "install this platform checkout's @aio/* packages, packed (try it on a laptop)")
    .option('-y, --yes', 'never prompt: fail listing any missing required value')
    .option('--force', "write into a non-empty folder: overwrite the template's files, keep the others")
    .action(async (name: string | undefined, flags: NewServiceFlags) =>
      done(await newServiceCommand(io, name, flags)),
    );
}

/**
 * Runs `aio new service`. It either completes or leaves nothing behind:
 *
 * 1. Answers (flags, then prompts, each checked as it is given), the target folder, the whole
 *    render and the platform.yaml change are computed and checked in memory.
 * 2. A summary is shown (and confirmed, in a terminal) before the first write.
 * 3. Files, then `npm install` and `git init` + the first commit, recorded in a journal.
 * 4. platform.yaml is written last, once everything else succeeded.
 *
 * A failed step or Ctrl-C rolls the journal back: the folder is as it was, platform.yaml untouched.
 */
export async function newServiceCommand(
  io: CliIo,
  name: string | undefined,
  flags: NewServiceFlags,
  deps: NewServiceDeps = {},
): Promise<number> {
  const { existsSync, mkdtempSync, rmSync } = await import('node:fs');
  const { readFile, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { basename, join, relative, resolve } = await import('node:path');
  const { ValidationError } = await import('../model/validation-error.js');
  const { resolveAnswers } = await import('../templates/resolve-answers.js');
  const { checkAnswers } = await import('../templates/service-answers.js');
  const { isManaged, loadServiceTemplate, renderService } = await import('../templates/render-service.js');
  const { formatTree, isEmptyFolder } = await import('../templates/file-map.js');
  const { ScaffoldJournal } = await import('../templates/scaffold-journal.js');
  const { answered, clackPrompter, PromptCancelled } = await import('../templates/prompter.js');
  const local = await import('../templates/local-packages.js');
  const { parsePlatform } = await import('../model/load-platform.js');
  const { readPlatformSource } = await import('./platform-file.js');

  // 1. Answers: flags, then prompts (interactive only), then the platform's values and defaults.
  const platformFlag =
    flags.platform ?? (existsSync(resolve(io.cwd, 'platform.yaml')) ? 'platform.yaml' : undefined);
  // Read once: the same text is validated now and spliced later, so both see one version.
  const source = platformFlag ? await readPlatformSource(io, platformFlag, '--platform') : undefined;
  const platform = source ? parsePlatform(source.text, { file: source.shown }) : undefined;
  const prompter = flags.yes || !io.interactive ? undefined : (deps.prompter ?? (await clackPrompter()));
  const answers = await resolveAnswers(
    {
      name,
      owner: flags.owner,
      database: flags.database,
      cache: flags.cache,
      routes: flags.route,
      calls: flags.calls,
      registry: flags.registry,
    },
    { platform, prompter },
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
  const files = new Map(renderService(answers, template));
  let registration: { file: string; text: string } | undefined;
  if (source) {
    const { registerService } = await import('../templates/platform-registration.js');
    registration = { file: source.abs, text: registerService(source.text, answers, source.shown).text };
  }
  const packageNames = Object.keys(template.packages);
  if (flags.local) local.packageFolders(packageNames); // fail before any question is lost
  const overwrites = flags.force ? ScaffoldJournal.overwrites(target, files) : [];

  if (flags.dryRun) {
    io.out(formatTree(shown === '.' ? basename(target) : shown, files, (p) => isManaged(template, p)));
    io.out(`${files.size} files; dry run, nothing written`);
    if (overwrites.length) io.out(`would overwrite ${overwrites.length}: ${overwrites.join(', ')}`);
    if (registration) io.out(`would add services.${answers.name} to ${source!.shown}`);
    return 0;
  }

  // 4. The summary, before anything is written.
  const then = [flags.install ? 'npm install' : '', flags.git ? 'git init and the first commit' : '']
    .filter(Boolean)
    .join(', then ');
  const summary = [
    `service   ${answers.name} (owner ${answers.owner})`,
    `data      database ${answers.database}, cache ${answers.cache}`,
    `routes    ${answers.routes.length ? answers.routes.map((r) => `${r} at weight 0`).join(', ') : 'none'}`,
    `calls     ${answers.calls.length ? answers.calls.join(', ') : 'none'}`,
    `folder    ${shown}: ${files.size} files${overwrites.length ? `, overwriting ${overwrites.join(', ')}` : ''}`,
    `@aio/*    ${flags.local ? `this checkout's packages, packed into ${local.LOCAL_PACKAGES_DIR}/` : answers.registry}`,
    ...(then ? [`then      ${then}`] : []),
    `platform  ${registration ? `adds services.${answers.name} to ${source!.shown}, last` : 'none (no platform.yaml)'}`,
  ].join('\n');
  if (prompter) {
    prompter.note(summary, `aio new service ${answers.name}`);
    if (!answered(await prompter.confirm({ message: 'Create it?', initialValue: true }))) {
      throw new PromptCancelled();
    }
  } else if (overwrites.length) {
    io.err(`--force: overwriting ${overwrites.length} file(s) of the template: ${overwrites.join(', ')}`);
  }

  // 5. Write, then side effects, in a journal; platform.yaml last.
  const journal = ScaffoldJournal.open(target);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  const packDir = flags.local && !deps.packed ? mkdtempSync(join(tmpdir(), 'aio-pack-')) : undefined;
  try {
    if (flags.local) {
      const packed =
        deps.packed ??
        (await local.packLocalPackages(packageNames, packDir!, (cmd, args, cwd) =>
          spawnQuietly(cmd, args, cwd, abort.signal),
        ));
      files.set('package.json', local.pointAtTarballs(files.get('package.json')!, packed));
      await journal.write(files);
      for (const p of packed)
        await journal.copy(p.tarball, `${local.LOCAL_PACKAGES_DIR}/${basename(p.tarball)}`);
    } else {
      await journal.write(files);
    }
    io.err(`✔ wrote ${files.size} files to ${shown} (service template ${template.version})`);
    if (flags.install) {
      await step(io, 'npm install', target, ['npm', ['install', '--no-audit', '--no-fund']], abort.signal);
    }
    if (flags.git) {
      await step(io, 'git init', target, ['git', ['init', '--quiet', '--initial-branch=main']], abort.signal);
      await step(io, 'git add', target, ['git', ['add', '--all']], abort.signal);
      await step(
        io,
        'git commit',
        target,
        [
          'git',
          [
            'commit',
            '--quiet',
            '--no-verify',
            '-m',
            `Generate ${answers.name} with aio new service (service template ${template.version})`,
          ],
        ],
        abort.signal,
      );
    }
    if (abort.signal.aborted) throw new PromptCancelled();
    if (registration && source) {
      // Someone may have edited platform.yaml meanwhile: register into what is there now.
      const now = await readFile(source.abs, 'utf8');
      const { registerService } = await import('../templates/platform-registration.js');
      const text = now === source.text ? registration.text : registerService(now, answers, source.shown).text;
      await writeFile(registration.file, text);
      io.err(`✔ added services.${answers.name} to ${source.shown}`);
    }
  } catch (err) {
    await journal.rollback();
    const what = existsSync(target) ? `restored ${shown}` : `removed ${shown}`;
    const kept = source ? `; ${source.shown} is unchanged` : '';
    if (abort.signal.aborted || err instanceof PromptCancelled) {
      throw new PromptCancelled(`cancelled: ${what}${kept}`);
    }
    if (err instanceof StepFailed) {
      throw new ValidationError(`${err.message}; nothing was left behind (${what}${kept}); ${err.hint}`);
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  }
  if (!platform) {
    io.err(
      `! no platform.yaml here and no --platform: ci.yml, deploy/ and .npmrc use the placeholder AWS account ` +
        `${answers.account}; set answers.account in the repo's .aio/scaffold.json, then run npx aio-service update --write`,
    );
  }
  io.out(
    `created ${answers.name} in ${shown}; next: cd ${shown}${flags.install ? '' : ' && npm install'} && npm test (see README.md)`,
  );
  return 0;
}
