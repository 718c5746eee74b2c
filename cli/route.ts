import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, readPlatformSource } from './platform-file.js';

/** Options of `aio route`. */
export interface RouteCommandOptions {
  readonly file: string;
  /** Percent sent to the service, as typed. */
  readonly weight?: string;
  /** Add the path to the service when it does not have it yet. */
  readonly add?: boolean;
  /** Delete the route instead of setting its weight. */
  readonly remove?: boolean;
  /** Percent of the path's GETs mirrored to the service and compared, as typed. */
  readonly shadow?: string;
}

/** `aio route <service> <path> --weight N | --remove | --shadow N`: moves (or shadows) a path between the monolith and a service. */
export function registerRoute(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('route')
    .description(
      'set the percent of <path> sent to <service> (the rest goes to the monolith); edits platform.yaml in place, rollback is the same command',
    )
    .argument('<service>', 'the new service, e.g. order')
    .argument('<path>', "one of the service's route paths, e.g. /api/orders")
    .option(
      '-w, --weight <percent>',
      'percent of customers sent to the service (cohort buckets 0..N-1), an integer from 0 to 100',
    )
    .option(
      '--shadow <percent>',
      "percent of the path's GET/HEAD requests mirrored to the service and compared with the monolith (aio shadow report), 0 to 100",
    )
    .option('--add', 'add <path> to the service if it does not have it yet')
    .option('--remove', 'delete the route: all of <path> goes back to the monolith')
    .option(...PLATFORM_FILE_FLAG)
    .action(async (service: string, path: string, opts: RouteCommandOptions) =>
      done(await routeCommand(io, service, path, opts)),
    );
}

/**
 * Sets the weight of `service`'s route `path` in platform.yaml, adds it (`--add`) or removes it
 * (`--remove`), through the platform.yaml editor, so comments and formatting stay. The edited text
 * is validated by the model before anything is written.
 *
 * Usage errors (exit 2): a bad `--weight`, a bad path, an unknown service, a path another service
 * owns, and a path the service does not have without `--add` (with the nearest one suggested, so a
 * typo never becomes a new live route).
 */
export async function routeCommand(
  io: CliIo,
  service: string,
  path: string,
  opts: RouteCommandOptions,
): Promise<number> {
  const { writeFile } = await import('node:fs/promises');
  const { parsePlatform, nearestName, UsageError, normalizeRoutePath, routePathProblem } =
    await import('../model/index.js');
  const { PlatformSourceEditor } = await import('../model/platform-source-editor.js');
  const { formatRoutesTable } = await import('./routes.js');

  const shadow = parseShadow(opts, UsageError);
  const weight = shadow === undefined ? parseWeight(opts, UsageError) : undefined;
  const problem = routePathProblem(path);
  if (problem) throw new UsageError(`<path> ${problem}, got '${path}'`);
  const normalized = normalizeRoutePath(path);

  const { abs, shown, text } = await readPlatformSource(io, opts.file);
  const before = parsePlatform(text, { file: shown });
  if (!before.services.some((s) => s.name === service)) {
    const known = before.services.map((s) => s.name);
    const guess = nearestName(service, known);
    throw new UsageError(
      `no service '${service}' in ${shown}; ${guess ? `did you mean '${guess}'? ` : ''}known services are ${known.join(', ')}`,
    );
  }
  const routes = before.routes();
  const owner = routes.find((r) => r.service !== service && r.path === normalized);
  if (owner) {
    throw new UsageError(
      `path '${normalized}' is routed to service '${owner.service}'; each path belongs to one service`,
    );
  }
  const own = routes.filter((r) => r.service === service).map((r) => r.path);
  const exists = own.includes(normalized);
  if (!exists && (opts.remove || !opts.add)) {
    const guess = nearestName(normalized, own);
    const has = own.length ? `its routes are ${own.join(', ')}` : 'it has no routes';
    throw new UsageError(
      `service '${service}' has no route '${normalized}'; ${guess ? `did you mean '${guess}'? ` : ''}${has}` +
        (opts.remove ? '' : `; pass --add to add '${normalized}' to ${service}`),
    );
  }

  const editor = new PlatformSourceEditor(text, shown);
  let action: string;
  if (shadow !== undefined) {
    editor.setRouteField(service, normalized, 'shadow', shadow);
    action = `shadow of ${service} ${normalized} → ${shadow}% of its GET/HEAD requests mirrored and compared`;
  } else if (opts.remove) {
    editor.removeRoute(service, normalized);
    action = `removed ${service} ${normalized} (all of it goes to the monolith)`;
  } else if (exists) {
    const { removedComment } = editor.setRouteWeight(service, normalized, weight!);
    action = `updated ${service} ${normalized} → ${weight}% (monolith ${100 - weight!}%)`;
    if (removedComment) action += `; removed the stale comment '# ${removedComment}'`;
  } else {
    editor.addRoute(service, normalized, weight!);
    action = `added ${service} ${normalized} → ${weight}% (monolith ${100 - weight!}%)`;
  }
  const after = parsePlatform(editor.text, { file: shown }); // throws before anything is written

  io.out(`before:\n${formatRoutesTable(before.routes())}\n`);
  io.out(`after:\n${formatRoutesTable(after.routes())}`);
  await writeFile(abs, editor.text);
  io.err(`${shown}: ${action}; run aio synth to regenerate manifests`);
  return 0;
}

/** `--shadow` as a number, or `undefined` without it. @throws UsageError for a bad combination or value */
function parseShadow(
  opts: RouteCommandOptions,
  UsageError: new (message: string) => Error,
): number | undefined {
  if (opts.shadow === undefined) return undefined;
  if (opts.remove || opts.add || opts.weight !== undefined) {
    throw new UsageError(
      "--shadow cannot be combined with --weight, --add or --remove; set the shadow first, e.g. 'aio route order /api/orders --shadow 10'",
    );
  }
  if (!/^\d+$/.test(opts.shadow) || Number(opts.shadow) > 100) {
    throw new UsageError(`--shadow must be an integer from 0 to 100, got '${opts.shadow}'`);
  }
  return Number(opts.shadow);
}

/** `--weight` as a number, or `undefined` with `--remove`. @throws UsageError for a bad combination or value */
function parseWeight(
  opts: RouteCommandOptions,
  UsageError: new (message: string) => Error,
): number | undefined {
  if (opts.remove) {
    if (opts.weight !== undefined || opts.add) {
      throw new UsageError('--remove cannot be combined with --weight or --add; pick one');
    }
    return undefined;
  }
  if (opts.weight === undefined) {
    throw new UsageError(
      "one of --weight <percent> or --remove is required, e.g. 'aio route order /api/orders --weight 50'",
    );
  }
  if (!/^\d+$/.test(opts.weight) || Number(opts.weight) > 100) {
    throw new UsageError(`--weight must be an integer from 0 to 100, got '${opts.weight}'`);
  }
  return Number(opts.weight);
}
