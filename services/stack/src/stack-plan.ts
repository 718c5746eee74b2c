import { freePort, portIsFree } from '@aio/kit/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { urlVariable, type ProcessContext, type ProcessEntry } from './process-entry.js';
import { StackError } from './stack-error.js';
import type { StackDatabase, StackScope } from './stack-scope.js';

/** One process to start, fully derived: name, port, argv and environment. */
export interface PlannedProcess {
  readonly name: string;
  readonly entry: ProcessEntry;
  readonly port: number;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The entries to start for `wanted`, dependencies first (the order of the table among independent
 * ones), with each stand-in in place of the entry it replaces.
 *
 * @throws Error naming an unknown process or a dependency cycle
 */
export function resolveEntries(
  table: readonly ProcessEntry[],
  wanted: readonly string[],
  standIns: Readonly<Record<string, string>> = {},
): ProcessEntry[] {
  const byName = new Map(table.map((e) => [e.name, e]));
  const lookup = (name: string, from?: string): ProcessEntry => {
    const entry = byName.get(standIns[name] ?? name);
    if (!entry) {
      const where = from ? ` (called by ${from})` : '';
      throw new Error(`unknown process '${name}'${where}; known: ${[...byName.keys()].join(', ')}`);
    }
    return entry;
  };
  const order: ProcessEntry[] = [];
  const visiting: string[] = [];
  const visit = (entry: ProcessEntry): void => {
    if (order.includes(entry)) return;
    if (visiting.includes(entry.name)) {
      throw new Error(`dependency cycle: ${[...visiting, entry.name].join(' → ')}`);
    }
    visiting.push(entry.name);
    for (const dep of dependencies(entry)) visit(lookup(dep, entry.name));
    visiting.pop();
    order.push(entry);
  };
  const roots = wanted.map((name) => lookup(name));
  for (const entry of table) if (roots.includes(entry)) visit(entry);
  return order;
}

/** What an entry waits for: the processes it calls, then the ones it starts after. */
export function dependencies(entry: ProcessEntry): readonly string[] {
  return [...(entry.calls ?? []), ...(entry.after ?? [])];
}

/** Fails naming the first entry whose script is missing (before anything is created). */
export function assertBuilt(root: string, entries: readonly ProcessEntry[]): void {
  for (const entry of entries) {
    if (entry.main && !existsSync(join(root, entry.main))) {
      throw new StackError(`${entry.name}: ${entry.main} is not built; run npm run build first`);
    }
  }
}

/** Input of {@link planProcesses}. */
export interface PlanInput {
  readonly root: string;
  readonly table: readonly ProcessEntry[];
  readonly entries: readonly ProcessEntry[];
  readonly standIns: Readonly<Record<string, string>>;
  readonly scope: StackScope;
  /** See {@link ProcessContext.stateDir}. */
  readonly stateDir: string;
  readonly databases: ReadonlyMap<string, StackDatabase>;
  readonly replicas: Readonly<Record<string, number>>;
  readonly basePort: number | undefined;
  readonly commonEnv: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly nodeArgs: Readonly<Record<string, readonly string[]>>;
  /** Processes behind a fault proxy, with the proxy's port: their callers get the proxy's URL. @default - none */
  readonly faultPorts?: ReadonlyMap<string, number>;
}

/** Ports, argv and environment of every instance, in start order. */
export async function planProcesses(input: PlanInput): Promise<PlannedProcess[]> {
  const { root, scope, standIns } = input;
  const instances = input.entries.flatMap((entry) => {
    const count = input.replicas[entry.name] ?? 1;
    return Array.from({ length: count }, (_, i) => ({
      entry,
      name: count > 1 ? `${entry.name}-${i}` : entry.name,
    }));
  });
  const ports = new Map<string, number>();
  if (input.basePort === undefined) {
    for (const i of instances) ports.set(i.name, await freePort());
  } else {
    // fixed ports follow the table's order, so `aio dev` keeps its documented ports
    const sorted = [...instances].sort((a, b) => input.table.indexOf(a.entry) - input.table.indexOf(b.entry));
    sorted.forEach((i, n) => ports.set(i.name, input.basePort! + n));
  }
  const firstPort = (name: string) => {
    const entry = standIns[name] ?? name;
    const port = ports.get(entry) ?? ports.get(`${entry}-0`);
    if (port === undefined) throw new Error(`process '${name}' is not part of this stack`);
    return port;
  };
  const envs = new Map<string, Record<string, string>>();
  const base = scope.kind === 'test' ? testBaseEnv() : definedEnv(process.env);
  return instances.map(({ entry, name }) => {
    const port = ports.get(name)!;
    const ctx: ProcessContext = {
      root,
      scope: scope.kind,
      stateDir: input.stateDir,
      port,
      url: (other) => `http://127.0.0.1:${input.faultPorts?.get(other) ?? firstPort(other)}`,
      envOf: (other) => {
        const target = standIns[other] ?? other;
        const env = envs.get(target);
        if (!env) throw new Error(`${entry.name}: envOf('${other}') is not a dependency started before it`);
        return env;
      },
    };
    const database = input.databases.get(entry.name);
    const env: Record<string, string> = {
      ...base,
      ...input.commonEnv,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(entry.redis ? { REDIS_URL: scope.redisUrl, REDIS_KEY_PREFIX: scope.prefixOf(entry.name) } : {}),
      ...Object.fromEntries((entry.calls ?? []).map((c) => [urlVariable(c), ctx.url(c)])),
      ...entry.env?.(ctx),
      ...input.env[entry.name],
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    if (!envs.has(entry.name)) envs.set(entry.name, env);
    const argv = entry.command
      ? entry.command(ctx)
      : [process.execPath, ...(input.nodeArgs[entry.name] ?? []), join(root, entry.main!)];
    return { name, entry, port, argv, env };
  });
}

/** Fails naming the process whose fixed port another program holds. */
export async function assertPortsFree(processes: readonly PlannedProcess[], flag: string): Promise<void> {
  for (const p of processes) {
    if (!(await portIsFree(p.port))) {
      throw new StackError(`port ${p.port} (${p.name}) is in use; stop what holds it or pass ${flag}`);
    }
  }
}

/** What a test process inherits: PATH only, quiet logs, no span export. */
function testBaseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' };
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
