import type { Command } from 'commander';
import type { SynthSummary } from '../synth/index.js';
import { annotation, formatTable, inGitHubActions, type CliIo } from './cli-io.js';
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
      're-synthesize into a temp folder; exit 1 with the diff if the committed output differs',
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
  let diff = '';
  try {
    summary = await synthesizePlatform(model, { envs, outDir: target, onProgress: (line) => io.err(line) });
    if (opts.check) {
      const { distDrift, formatDrift } = await import('../pipelines/generated-files.js');
      const found = distDrift(target, outDir, envs);
      drift = formatDrift(found).map((l) => l.replace(': ', `: ${shown}/`));
      diff = await driftDiff(found, target, outDir, shown);
    }
  } finally {
    if (opts.check) rmSync(target, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const github = inGitHubActions(io);
  for (const f of summary.findings) {
    io.err(`${f.level}: ${f.env}: [${f.gate} ${f.rule}] ${f.path}: ${f.message}`);
    if (github) {
      io.err(
        annotation(f.level === 'error' ? 'error' : 'warning', `${f.path}: ${f.message}`, {
          title: `${f.gate} ${f.rule} (${f.env})`,
        }),
      );
    }
  }
  const drifted = drift.length > 0;
  if (drifted) {
    // What changed, so the fix (re-run synth and commit) can be reviewed from the CI log alone.
    if (opts.json) io.err(diff);
    else io.out(diff);
    for (const line of drift) io.err(line);
    if (github) {
      for (const line of drift) {
        const [kind, file] = line.split(': ');
        io.err(
          annotation('error', `${kind}: differs from a fresh synth; run aio synth and commit ${shown}/`, {
            file,
            title: 'aio synth --check',
          }),
        );
      }
    }
  }
  if (opts.json) {
    io.out(JSON.stringify({ ...toJson(summary, shown, seconds), ...(opts.check ? { drift } : {}) }, null, 2));
  } else {
    io.out(formatSummary(summary, seconds, opts.check ? drift.length : undefined, shown));
  }
  const errors = summary.findings.filter((f) => f.level === 'error').length;
  if (errors > 0) io.err(`synth failed: ${errors} gate error(s); fix them or acknowledge them with a reason`);
  if (drifted)
    io.err(
      `synth --check failed: ${shown}/ is out of date; run aio synth --env ${opts.env} and commit ${shown}/`,
    );
  return summary.ok && !drifted ? 0 : 1;
}

/** A unified diff of each file `aio synth --check` found different: committed (a/) → fresh (b/). */
async function driftDiff(
  drift: {
    readonly missing: readonly string[];
    readonly changed: readonly string[];
    readonly extra: readonly string[];
  },
  fresh: string,
  committed: string,
  shown: string,
): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const read = (root: string, f: string) => readFileSync(join(root, f), 'utf8');
  const patch = (f: string, before: string | undefined, after: string | undefined) =>
    createTwoFilesPatch(
      before === undefined ? '/dev/null' : `a/${shown}/${f}`,
      after === undefined ? '/dev/null' : `b/${shown}/${f}`,
      before ?? '',
      after ?? '',
      undefined,
      undefined,
      { context: 3 },
    ).replace(/^=+\n/, '');
  const patches = [
    ...drift.changed.map((f) => patch(f, read(committed, f), read(fresh, f))),
    ...drift.missing.map((f) => patch(f, undefined, read(fresh, f))),
    ...drift.extra.map((f) => patch(f, read(committed, f), undefined)),
  ];
  const lines = patches.join('').split('\n');
  const limit = 400;
  return lines.length > limit
    ? [
        ...lines.slice(0, limit),
        `... ${lines.length - limit} more diff lines; run aio synth and git diff ${shown}/`,
      ].join('\n')
    : lines.join('\n').trimEnd();
}

/**
 * The summary table and one verdict line. With `--check`, the verdict covers the committed output
 * too: it never says "passed" when the check failed.
 */
function formatSummary(summary: SynthSummary, seconds: number, drifted?: number, out = 'dist'): string {
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
  const verdict = [
    errors === 0 && !drifted ? 'passed' : errors > 0 ? `${errors} error(s)` : 'failed',
    ...(warnings ? [`${warnings} warning(s)`] : []),
    ...(drifted ? [`${out}/ out of date (${drifted} file${drifted === 1 ? '' : 's'})`] : []),
  ];
  return (
    formatTable(['ENV', 'STACKS', 'RESOURCES', 'MANIFESTS', 'SECONDS'], rows) +
    `\ngates: ${verdict.join(', ')}`
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
