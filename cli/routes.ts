import type { Command } from 'commander';
import type { RouteRow } from '../model/index.js';
import { formatTable, type CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, readPlatform } from './platform-file.js';

/** `aio routes`: the strangler migration table. */
export function registerRoutes(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('routes')
    .description('print the strangler migration table: each path and its split between service and monolith')
    .option(...PLATFORM_FILE_FLAG)
    .option('--json', 'print the table as JSON')
    .action(async (opts: { file: string; json?: boolean }) => done(await routesCommand(io, opts)));
}

export async function routesCommand(io: CliIo, opts: { file: string; json?: boolean }): Promise<number> {
  const model = await readPlatform(io, opts.file);
  const rows = model.routesTable();
  io.out(opts.json ? JSON.stringify(rows, null, 2) : formatRoutesTable(rows));
  return 0;
}

/** The routes table as text, shared by `aio routes` and `aio route`. */
export function formatRoutesTable(rows: readonly RouteRow[]): string {
  return formatTable(
    ['PATH', 'SERVICE', 'NEW', 'MONOLITH'],
    rows.map((r) => [
      r.service ? r.path : '/ (everything else)',
      r.service ?? 'monolith',
      `${r.servicePercent}%`,
      `${r.monolithPercent}%`,
    ]),
  );
}
