import type { Command } from 'commander';
import type { RouteModel } from '../model/index.js';
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
  io.out(opts.json ? JSON.stringify(model.routesTable(), null, 2) : formatRoutesTable(model.routes()));
  return 0;
}

/**
 * The routes table as text, shared by `aio routes` and `aio route`: each migrated path with its
 * split and the customers it selects (weight N → cohort buckets 0..N-1 of 100, N % of customers),
 * then the catch-all row.
 */
export function formatRoutesTable(routes: readonly RouteModel[]): string {
  return formatTable(
    ['PATH', 'SERVICE', 'NEW', 'MONOLITH', 'COHORT (customers to the service)'],
    [
      ...routes.map((r) => [r.path, r.service, `${r.weight}%`, `${r.monolithWeight}%`, cohortShare(r)]),
      ['/ (everything else)', 'monolith', '0%', '100%', 'none'],
    ],
  );
}

/** `buckets 0-24 (25% of customers)`, `all 100 buckets`, or `none`. */
export function cohortShare(route: RouteModel): string {
  if (!route.cohort) return 'none';
  if (route.weight === 100) return 'buckets 0-99 (all customers)';
  return `buckets ${route.cohort.firstBucket}-${route.cohort.lastBucket} (${route.weight}% of customers)`;
}
