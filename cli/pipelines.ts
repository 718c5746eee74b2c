import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, platformPath, readPlatform } from './platform-file.js';
import { UsageError, ValidationError } from '../model/validation-error.js';

/** Options of `aio pipelines`. */
export interface PipelinesCommandOptions {
  readonly file: string;
  readonly check?: boolean;
  readonly write?: boolean;
}

/** Options of `aio pipelines summary`. */
export interface PipelinesSummaryOptions {
  readonly routesBefore: string;
  readonly routesAfter: string;
  readonly diffDir?: string;
}

/**
 * `aio pipelines`: the platform repo's GitHub Actions workflows, generated from TypeScript.
 * `--check` exits 1 on drift, `--write` regenerates; `summary` renders the PR comment.
 */
export function registerPipelines(program: Command, io: CliIo, done: (code: number) => void): void {
  const cmd = program
    .command('pipelines')
    .description('generate the GitHub Actions workflows in .github/workflows (--check fails on drift)')
    .option(...PLATFORM_FILE_FLAG)
    .option('--check', 'exit 1 if a generated workflow is missing, stale or extra')
    .option('--write', 'write the workflows (and remove generated ones no longer produced)')
    .action(async (opts: PipelinesCommandOptions) => done(await pipelinesCommand(io, opts)));
  cmd
    .command('summary')
    .description('print the PR comment: resources changed (cdk diff) and route weights shifted')
    .requiredOption('--routes-before <file>', '`aio routes --json` of the base branch')
    .requiredOption('--routes-after <file>', '`aio routes --json` of the PR branch')
    .option('--diff-dir <dir>', 'folder of `cdk diff` outputs, one <env>.txt per environment')
    .action(async (opts: PipelinesSummaryOptions) => done(await pipelinesSummaryCommand(io, opts)))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
}

/** Runs `aio pipelines [--check|--write]` and returns the exit code. */
export async function pipelinesCommand(io: CliIo, opts: PipelinesCommandOptions): Promise<number> {
  if (opts.check && opts.write) throw new UsageError('--check and --write cannot be used together; pick one');
  const model = await readPlatform(io, opts.file);
  const { dirname } = await import('node:path');
  const root = dirname(platformPath(io, opts.file).abs);
  const files = await import('../pipelines/generated-files.js');
  const rendered = files.renderPlatformWorkflows(model);
  if (opts.write) {
    const drift = files.writeWorkflows(root, rendered);
    const lines = files
      .formatDrift(drift)
      .map((l) => l.replace(/^(missing|changed): /, 'wrote: ').replace(/^extra: /, 'removed: '));
    io.out(lines.length ? lines.join('\n') : `${rendered.size} workflows up to date`);
    return 0;
  }
  const drift = files.workflowDrift(root, rendered);
  if (opts.check) {
    if (files.isClean(drift)) {
      io.out(`${rendered.size} workflows up to date`);
      return 0;
    }
    for (const line of files.formatDrift(drift)) io.err(line);
    io.err('generated workflows are out of date; run aio pipelines --write and commit .github/workflows');
    return 1;
  }
  const stale = new Set([...drift.missing, ...drift.changed]);
  for (const f of rendered.keys()) io.out(`${stale.has(f) ? 'out of date' : 'up to date '}  ${f}`);
  for (const f of drift.extra) io.out(`extra        ${f}`);
  return 0;
}

/** Runs `aio pipelines summary` and prints the PR comment (Markdown). */
export async function pipelinesSummaryCommand(io: CliIo, opts: PipelinesSummaryOptions): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const { basename, join } = await import('node:path');
  const { parseCdkDiff, routeShifts, formatPrSummary } = await import('../pipelines/pr-summary.js');
  const { listFiles } = await import('../pipelines/generated-files.js');
  const readJson = (file: string) => {
    const abs = platformPath(io, file).abs;
    try {
      return JSON.parse(readFileSync(abs, 'utf8')) as Parameters<typeof routeShifts>[0];
    } catch (err) {
      throw new ValidationError(
        `cannot read routes (${(err as Error).message}); pass the output of aio routes --json`,
        { file },
      );
    }
  };
  const diffs = [];
  if (opts.diffDir) {
    const dir = platformPath(io, opts.diffDir).abs;
    for (const f of listFiles(dir).filter((x) => x.endsWith('.txt'))) {
      diffs.push(...parseCdkDiff(basename(f, '.txt'), readFileSync(join(dir, f), 'utf8')));
    }
  }
  io.out(formatPrSummary(diffs, routeShifts(readJson(opts.routesBefore), readJson(opts.routesAfter))));
  return 0;
}
