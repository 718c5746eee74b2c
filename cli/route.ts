import type { Command } from 'commander';
import type * as YamlNs from 'yaml';
import type { CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, readPlatformSource } from './platform-file.js';

/** Options of `aio route`. */
export interface RouteCommandOptions {
  readonly file: string;
  readonly weight: string;
}

/** `aio route <service> <path> --weight N`: moves a path's traffic between the monolith and a service. */
export function registerRoute(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('route')
    .description(
      'set the percent of <path> sent to <service> (the rest goes to the monolith); edits platform.yaml in place, rollback is the same command',
    )
    .argument('<service>', 'the new service, e.g. order')
    .argument('<path>', 'the path prefix, e.g. /api/orders (added to the service if new)')
    .requiredOption('-w, --weight <percent>', 'percent sent to the service, an integer from 0 to 100')
    .option(...PLATFORM_FILE_FLAG)
    .action(async (service: string, path: string, opts: RouteCommandOptions) =>
      done(await routeCommand(io, service, path, opts)),
    );
}

/**
 * Sets the weight of `service`'s route `path` in platform.yaml, keeping comments and formatting
 * (the yaml Document API). The edited text is validated by the model before anything is written.
 */
export async function routeCommand(
  io: CliIo,
  service: string,
  path: string,
  opts: RouteCommandOptions,
): Promise<number> {
  const { writeFile } = await import('node:fs/promises');
  const { parsePlatform, nearestName, ValidationError, ROUTE_PATH } = await import('../model/index.js');
  const { formatRoutesTable } = await import('./routes.js');

  if (!/^\d+$/.test(opts.weight) || Number(opts.weight) > 100) {
    throw new ValidationError(`--weight must be an integer from 0 to 100, got '${opts.weight}'`);
  }
  const weight = Number(opts.weight);
  if (!ROUTE_PATH.test(path)) {
    throw new ValidationError(`<path> must start with '/' and use only URL path characters, got '${path}'`);
  }
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (normalized === '/') {
    throw new ValidationError(
      "<path> '/' is the catch-all to the legacy monolith; route a narrower prefix such as '/api/orders'",
    );
  }

  const { abs, shown, text } = await readPlatformSource(io, opts.file);
  const before = parsePlatform(text, { file: shown });
  if (!before.services.some((s) => s.name === service)) {
    const known = before.services.map((s) => s.name);
    const guess = nearestName(service, known);
    throw new ValidationError(
      `no service '${service}' in ${shown}; ${guess ? `did you mean '${guess}'? ` : ''}known services are ${known.join(', ')}`,
    );
  }
  const owner = before.routesTable().find((r) => r.service && r.service !== service && r.path === normalized);
  if (owner) {
    throw new ValidationError(
      `path '${normalized}' is routed to service '${owner.service}'; each path belongs to one service`,
    );
  }

  const { edited, action } = editRoute(text, service, normalized, weight, await import('yaml'));
  const after = parsePlatform(edited, { file: shown }); // throws before anything is written

  io.out(`before:\n${formatRoutesTable(before.routesTable())}\n`);
  io.out(`after:\n${formatRoutesTable(after.routesTable())}`);
  await writeFile(abs, edited);
  io.err(
    `${shown}: ${action} ${service} ${normalized} → ${weight}% (monolith ${100 - weight}%); run aio synth to regenerate manifests`,
  );
  return 0;
}

type YamlModule = typeof YamlNs;

/**
 * Splices the new weight (or route) into the original text at the node's source range, so every
 * other byte of the file (comments, flow style, line breaks) stays as the user wrote it.
 */
function editRoute(
  text: string,
  service: string,
  path: string,
  weight: number,
  { parseDocument, isMap, isScalar, isSeq }: YamlModule,
): { edited: string; action: 'updated' | 'added' } {
  const doc = parseDocument(text);
  const splice = (start: number, end: number, insert: string) =>
    text.slice(0, start) + insert + text.slice(end);
  const columnOf = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const lineEnd = (offset: number) =>
    text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  const entry = `{ path: ${path}, weight: ${weight} }`;

  const svc = doc.getIn(['services', service], true);
  if (!isMap(svc) || !svc.range) throw new Error(`services.${service} is not a mapping`);
  const pair = svc.items.find((p) => isScalar(p.key) && p.key.value === 'routes');
  const routes = pair?.value;
  if (isSeq(routes) && routes.range) {
    for (const item of routes.items) {
      const p = isMap(item) ? item.get('path') : undefined;
      const current = typeof p === 'string' && p.length > 1 ? p.replace(/\/+$/, '') : p;
      const node = isMap(item) ? item.get('weight', true) : undefined;
      if (current === path && isScalar(node) && node.range) {
        return { edited: splice(node.range[0], node.range[1], String(weight)), action: 'updated' };
      }
    }
    const last = routes.items.at(-1) as { range?: [number, number, number] } | undefined;
    if (!routes.flow && last?.range) {
      const at = lineEnd(last.range[1]);
      return {
        edited: splice(at, at, `\n${' '.repeat(columnOf(last.range[0]) - 2)}- ${entry}`),
        action: 'added',
      };
    }
    if (routes.flow && last?.range) {
      const close = text.lastIndexOf(']', routes.range[1]);
      return { edited: splice(close, close, `, ${entry}`), action: 'added' };
    }
    const keyStart = (pair!.key as { range?: [number, number, number] }).range![0];
    const indent = ' '.repeat(columnOf(keyStart) + 2);
    let start = routes.range[0];
    while (text[start - 1] === ' ') start--; // no trailing space after 'routes:'
    return { edited: splice(start, routes.range[1], `\n${indent}- ${entry}`), action: 'added' };
  }
  const first = svc.items[0]?.key as { range?: [number, number, number] } | undefined;
  const lastPair = svc.items.at(-1)?.value as { range?: [number, number, number] } | undefined;
  if (!first?.range || !lastPair?.range)
    throw new Error(`services.${service} has no keys to add routes after`);
  const indent = ' '.repeat(columnOf(first.range[0]));
  const at = lineEnd(lastPair.range[1]);
  return { edited: splice(at, at, `\n${indent}routes:\n${indent}  - ${entry}`), action: 'added' };
}
