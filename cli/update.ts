import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import type { ServiceTemplate } from '../templates/render-service.js';

/** The flags of `aio update`. */
export interface UpdateFlags {
  readonly dir: string;
  readonly write?: boolean;
  readonly check?: boolean;
}

/** `aio update`: brings a generated repo's managed files up to the current service template. */
export function registerUpdate(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('update')
    .description('re-render the managed files of a generated service repo at the current template version')
    .option('--dir <path>', 'the generated repo', '.')
    .option('--write', 'write the changes (default: only show the diff)')
    .option('--check', 'exit 1 when the managed files differ from the template (for CI)')
    .action(async (flags: UpdateFlags) => done(await updateCommand(io, flags, { tool: program.name() })));
}

/**
 * Runs `aio update`: checks the answers in `.aio/scaffold.json` with the rules of `aio new`
 * (exit 1, each bad answer with its line and field), prints a unified diff of the managed files
 * against a fresh render, writes only with `--write` (removing managed files the template no
 * longer has, per `.aio/files.json`), and with `--check` exits 1 on drift.
 */
export async function updateCommand(
  io: CliIo,
  flags: UpdateFlags,
  deps: { readonly template?: ServiceTemplate; readonly tool?: string } = {},
): Promise<number> {
  const { join, relative, resolve } = await import('node:path');
  const { UsageError } = await import('../model/validation-error.js');
  const { loadServiceTemplate } = await import('../templates/render-service.js');
  const { applyUpdate, formatPlanDiff, planUpdate } = await import('../templates/update-service.js');
  if (flags.write && flags.check)
    throw new UsageError('--write and --check cannot be used together; pick one');

  // `aio` in the platform repo, `aio-service` (from @aio/service-chart) in a service repo.
  const tool = deps.tool ?? 'aio';
  const repo = resolve(io.cwd, flags.dir);
  const template = deps.template ?? loadServiceTemplate();
  const { SCAFFOLD_FILE } = await import('../templates/render-service.js');
  const record = relative(io.cwd, join(repo, SCAFFOLD_FILE)) || SCAFFOLD_FILE;
  const plan = planUpdate(repo, template, record);
  const versions =
    plan.fromVersion === plan.toVersion
      ? `template ${plan.toVersion}`
      : `template ${plan.fromVersion} → ${plan.toVersion}`;
  if (plan.changes.length === 0) {
    io.err(`managed files are up to date (service ${versions})`);
    return 0;
  }
  io.out(await formatPlanDiff(plan));
  const n = `${plan.changes.length} managed file${plan.changes.length === 1 ? '' : 's'}`;
  if (flags.write) {
    await applyUpdate(repo, plan);
    io.err(`✔ updated ${n} (service ${versions}); review with git diff and commit`);
    return 0;
  }
  if (flags.check) {
    io.err(`${n} drifted from the service ${versions}; run ${tool} update --write and commit the result`);
    return 1;
  }
  io.err(`${n} would change (service ${versions}); run ${tool} update --write to apply`);
  return 0;
}
