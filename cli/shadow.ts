import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

/** Options of `aio shadow report`. */
export interface ShadowReportOptions {
  /** The comparer's JSONL file, or `-` for standard input (the cluster comparer's `kubectl logs`). */
  readonly log: string;
  readonly json?: boolean;
  /** Samples kept per field, as typed. */
  readonly samples: string;
}

/** The comparer's log under `aio dev`: `.aio/shadow.jsonl` at the repository root. */
export const DEFAULT_SHADOW_LOG = '.aio/shadow.jsonl';

/** `aio shadow report`: the mismatches the shadow comparer recorded, by field, with samples. */
export function registerShadow(program: Command, io: CliIo, done: (code: number) => void): void {
  const shadow = program
    .command('shadow')
    .description('shadow compare: mirrored GETs answered by both the monolith and the service');
  shadow
    .command('report')
    .description('print the mismatches between the monolith and the service by field, with samples')
    .option(
      '--log <file>',
      "the comparer's JSONL log; - reads standard input (kubectl logs)",
      DEFAULT_SHADOW_LOG,
    )
    .option('--samples <n>', 'samples shown per field', '3')
    .option('--json', 'print the report as JSON')
    .action(async (opts: ShadowReportOptions) => done(await shadowReportCommand(io, opts)));
}

/**
 * Reads the comparer's log and prints {@link shadowReport}. A missing log is an empty report (nothing
 * mirrored yet); a line that is not a record is a bad file (exit 1, naming the line).
 */
export async function shadowReportCommand(io: CliIo, opts: ShadowReportOptions): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const { UsageError } = await import('../model/index.js');
  const { shadowReport, formatShadowReport } = await import('./shadow-diff.js');
  if (!/^\d+$/.test(opts.samples)) {
    throw new UsageError(`--samples must be a whole number, got '${opts.samples}'`);
  }
  const { resolve } = await import('node:path');
  let text = '';
  if (opts.log === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(resolve(io.cwd, opts.log), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const records = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(lines[i]!);
    } catch {
      r = undefined;
    }
    if (typeof r !== 'object' || r === null || !Array.isArray((r as { mismatches?: unknown }).mismatches)) {
      io.err(`${opts.log}:${i + 1}: not a shadow compare record; remove the line or the file`);
      return 1;
    }
    records.push(r as Parameters<typeof shadowReport>[0][number]);
  }
  const report = shadowReport(records, Number(opts.samples));
  io.out(opts.json ? JSON.stringify(report, null, 2) : formatShadowReport(report));
  return 0;
}
