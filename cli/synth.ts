import type { Command } from 'commander';
import type { SynthSummary } from '../synth/index.js';
import { formatTable, type CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, platformPath, readPlatform } from './platform-file.js';
import { UsageError } from '../model/validation-error.js';

/** Options of `aio synth`. */
export interface SynthCommandOptions {
  readonly file: string;
  readonly env: string;
  readonly out: string;
  readonly json?: boolean;
  /** Synthesize into a temp folder and fail if the committed output differs. */
  readonly check?: boolean;
}

/** `aio synth`: CloudFormation and Kubernetes manifests for each environment, with gates. */
export function registerSynth(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('synth')
    .description(
      'synthesize CloudFormation (dist/<env>/cloudformation) and Kubernetes manifests (dist/<env>/k8s)',
    )
    .option(...PLATFORM_FILE_FLAG)
    .option('-e, --env <name>', "environment to synthesize, or 'all'", 'all')
    .option('-o, --out <dir>', 'output directory', 'dist')
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .option(
      '--check',
      're-synthesize into a temp folder; exit 1 listing files if the committed output differs',
    )
    .action(async (opts: SynthCommandOptions) => done(await synthCommand(io, opts)));
}

export async function synthCommand(io: CliIo, opts: SynthCommandOptions): Promise<number> {
  const started = performance.now();
  const model = await readPlatform(io, opts.file);
  const known = model.environments.map((e) => e.name);
  if (opts.env !== 'all' && !known.includes(opts.env)) {
    throw new UsageError(`--env must be one of ${[...known, 'all'].join(', ')}, got '${opts.env}'`);
  }
  const envs = opts.env === 'all' ? known : [opts.env];
  // the route contracts gate first: it needs no synthesis and fails in a second, not after CloudFormation
  const { planGateway } = await import('../model/route-contracts.js');
  planGateway(model);
  const { abs: outDir, shown } = platformPath(io, opts.out);
  io.err(`synth: ${model.file} → ${shown}/ (${envs.join(', ')})`);

  const { synthesizePlatform } = await import('../synth/synthesize.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const target = opts.check ? mkdtempSync(`${tmpdir()}/aio-synth-check-`) : outDir;
  let summary: SynthSummary;
  let drift: string[] = [];
  try {
    summary = await synthesizePlatform(model, { envs, outDir: target, onProgress: (line) => io.err(line) });
    if (opts.check) {
      const { distDrift, formatDrift } = await import('../pipelines/generated-files.js');
      drift = formatDrift(distDrift(target, outDir, envs)).map((l) => l.replace(': ', `: ${shown}/`));
    }
  } finally {
    if (opts.check) rmSync(target, { recursive: true, force: true });
  }
  for (const line of drift) io.err(line);
  const drifted = drift.length > 0;
  if (drifted) io.err(`${shown}/ is out of date; run aio synth --env ${opts.env} and commit ${shown}/`);
  const seconds = (performance.now() - started) / 1000;

  for (const f of summary.findings) {
    io.err(`${f.level}: ${f.env}: [${f.gate} ${f.rule}] ${f.path}: ${f.message}`);
  }
  if (opts.json) {
    io.out(JSON.stringify(toJson(summary, shown, seconds), null, 2));
  } else {
    io.out(formatSummary(summary, seconds));
  }
  const errors = summary.findings.filter((f) => f.level === 'error').length;
  if (errors > 0) io.err(`synth failed: ${errors} gate error(s); fix them or acknowledge them with a reason`);
  return summary.ok && !drifted ? 0 : 1;
}

function formatSummary(summary: SynthSummary, seconds: number): string {
  const rows = summary.environments.map((e) => [
    e.env,
    e.stacks,
    e.resources,
    e.manifests,
    e.seconds.toFixed(1),
  ]);
  const t = summary.environments.reduce(
    (acc, e) => ({
      stacks: acc.stacks + e.stacks,
      resources: acc.resources + e.resources,
      manifests: acc.manifests + e.manifests,
    }),
    { stacks: 0, resources: 0, manifests: 0 },
  );
  rows.push(['total', t.stacks, t.resources, t.manifests, seconds.toFixed(1)]);
  const errors = summary.findings.filter((f) => f.level === 'error').length;
  const warnings = summary.findings.length - errors;
  return (
    formatTable(['ENV', 'STACKS', 'RESOURCES', 'MANIFESTS', 'SECONDS'], rows) +
    `\ngates: ${errors === 0 ? 'passed' : `${errors} error(s)`}${warnings ? `, ${warnings} warning(s)` : ''}`
  );
}

function toJson(summary: SynthSummary, outDir: string, seconds: number) {
  return {
    ok: summary.ok,
    outDir,
    seconds: Math.round(seconds * 10) / 10,
    environments: summary.environments.map(({ files, ...e }) => ({ ...e, files: files.length })),
    findings: summary.findings,
  };
}
