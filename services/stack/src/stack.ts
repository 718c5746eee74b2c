import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, IssuerTokens } from '@aio/kit/testing';
import { FaultProxy } from './fault-proxy.js';
import { ManagedProcess } from './managed-process.js';
import { PLATFORM_PROCESSES, TOKEN_ISSUER } from './platform-processes.js';
import type { ProcessEntry } from './process-entry.js';
import {
  assertBuilt,
  assertPortsFree,
  dependencies,
  planProcesses,
  resolveEntries,
  type PlannedProcess,
} from './stack-plan.js';
import { StackLogs } from './stack-logs.js';
import type { StackDatabase, StackScope } from './stack-scope.js';

/** The repository root (this file is `services/stack/{src,dist}/stack.*`). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Options of {@link startStack}. */
export interface StackOptions {
  /** The processes wanted; the ones they call are added and started first. */
  readonly processes: readonly string[];
  /** Where the stack's databases and Redis keys live, and whether they outlive it. */
  readonly scope: StackScope;
  /**
   * Entries of this caller only (a benchmark's baseline), next to the platform's.
   *
   * @default []
   */
  readonly extraProcesses?: readonly ProcessEntry[];
  /**
   * Replace a process by another for every caller, e.g. `{ inventory: 'null-participants' }`.
   *
   * @default - none
   */
  readonly standIns?: Readonly<Record<string, string>>;
  /**
   * Instances per process; more than one are named `<name>-0`, `<name>-1` and share its database.
   *
   * @default 1 each
   */
  readonly replicas?: Readonly<Record<string, number>>;
  /**
   * Environment overrides per process; they win over everything derived but PORT and HOST.
   *
   * @default - none
   */
  readonly env?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Environment of every process (e.g. `DB_POOL_MAX`).
   *
   * @default - none
   */
  readonly commonEnv?: Readonly<Record<string, string>>;
  /**
   * Fixed ports from this one on, in the table's order (`aio dev`).
   *
   * @default - a free port for each process
   */
  readonly basePort?: number;
  /**
   * Where stdout and stderr go.
   *
   * @default - one file per process in a new temporary directory
   */
  readonly logs?: StackLogs;
  /**
   * Extra node flags per process, e.g. `{ order: ['--cpu-prof'] }`.
   *
   * @default - none
   */
  readonly nodeArgs?: Readonly<Record<string, readonly string[]>>;
  /**
   * How long one process may take to become ready.
   *
   * @default 60000
   */
  readonly readyTimeoutMs?: number;
  /** Called when a process exits that was not stopped or killed through the stack. */
  readonly onUnexpectedExit?: (process: ManagedProcess, how: string) => void;
  /**
   * Processes to put behind a {@link FaultProxy}: their callers (the gateway included) get the
   * proxy's URL, and `stack.fault(name)` injects an abort, a delay or a blackhole.
   *
   * @default - none
   */
  readonly faults?: readonly string[];
  /**
   * Where processes keep state that outlives their restarts (the token issuer's keys), kept when the
   * stack stops; never a build output (`dist/`).
   *
   * @default - a new temporary directory, removed when the stack stops
   */
  readonly stateDir?: string;
  /**
   * Named in the message when a fixed port is taken.
   *
   * @default --base-port
   */
  readonly portFlag?: string;
}

/** A running stack. */
export interface Stack {
  /** Every instance, in start order (dependencies first). */
  readonly processes: readonly ManagedProcess[];
  /** Where the logs are, when they go to files. */
  readonly logDir: string | undefined;
  /** The prefix of every Redis key of the stack. */
  readonly redisPrefix: string;
  /** An instance by its name (`order-1`), or a process's first instance by the process name. */
  process(name: string): ManagedProcess;
  /** Every instance of a process. */
  replicas(name: string): readonly ManagedProcess[];
  /** The database of a process. */
  database(name: string): StackDatabase;
  /** The fault proxy in front of a process listed in `faults`. */
  fault(name: string): FaultProxy;
  /**
   * Customer tokens from the stack's `token-issuer` (started with any service or the monolith):
   * `await stack.tokens.for('alice')`, and the refused kinds (`expired`, `wrongAudience`, ...).
   *
   * @throws Error on use when the stack has no token issuer
   */
  readonly tokens: IssuerTokens;
  /** Stops every process (callers first), then releases the scope (a test scope drops its state). */
  stop(): Promise<void>;
}

/**
 * Starts a set of the platform's local processes in dependency order (independent ones in parallel),
 * each on its own port and database, and waits until each is ready.
 *
 * A failed start stops what was started and releases the scope before it rethrows.
 *
 * @throws StackError naming a server that is down, a port in use, a service not built or a process
 *   that died before it was ready (with its log)
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { scope } = options;
  const { entries, databases, plan, faultPorts, stateDir } = await prepare(options);
  const logs = options.logs ?? StackLogs.toDirectory(mkdtempSync(join(tmpdir(), 'aio-stack-')));
  const processes = plan.map((p) => manage(p, logs, options));
  const proxies = new Map<string, FaultProxy>();
  try {
    if (options.basePort !== undefined) await assertPortsFree(plan, options.portFlag ?? '--base-port');
    for (const [name, port] of faultPorts) {
      const target = plan.find((p) => p.entry.name === name)!;
      proxies.set(name, await FaultProxy.start({ port, target: `http://127.0.0.1:${target.port}` }));
    }
    await startInOrder(entries, processes, options.standIns ?? {});
  } catch (err) {
    await Promise.all(processes.map((p) => p.kill9()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await scope.close();
    releaseState(options, stateDir);
    throw err;
  }
  const find = (name: string) => processes.filter((p) => p.name === name || p.entry.name === name);
  let stopping: Promise<void> | undefined;
  const issuer = processes.find((p) => p.entry.name === TOKEN_ISSUER);
  return {
    processes,
    tokens: issuer ? new IssuerTokens(issuer.url) : noIssuer(),
    logDir: logs.directory,
    redisPrefix: scope.redisPrefix,
    process: (name) => {
      const found = processes.find((p) => p.name === name) ?? find(name)[0];
      if (!found) throw new Error(`process '${name}' is not part of this stack`);
      return found;
    },
    replicas: (name) => find(name),
    database: (name) => {
      const db = databases.get(name);
      if (!db) throw new Error(`process '${name}' has no database in this stack`);
      return db;
    },
    fault: (name) => {
      const proxy = proxies.get(name);
      if (!proxy) throw new Error(`process '${name}' has no fault proxy in this stack; list it in 'faults'`);
      return proxy;
    },
    stop: () =>
      (stopping ??= stopInOrder(entries, processes)
        .then(() => Promise.all([...proxies.values()].map((p) => p.close())))
        .then(() => undefined)
        .finally(() => scope.close())
        .finally(() => releaseState(options, stateDir))),
  };
}

/** The `tokens` of a stack without an issuer: every call says why it cannot work. */
function noIssuer(): IssuerTokens {
  const fail = () =>
    Promise.reject(new Error(`this stack has no ${TOKEN_ISSUER}: start a service or the monolith with it`));
  return new Proxy(new IssuerTokens('http://127.0.0.1:0'), {
    get: (target, key) => (key === 'issuerUrl' ? target.issuerUrl : fail),
  });
}

/**
 * The environment a process would get in this stack, without starting anything (its database is
 * created if the scope creates databases): for one-off commands such as inventory's `reconcile`.
 */
export async function processEnvironment(
  options: StackOptions,
  name: string,
): Promise<Readonly<Record<string, string>>> {
  const { plan, stateDir } = await prepare(options);
  releaseState(options, stateDir);
  const found = plan.find((p) => p.name === name);
  if (!found) throw new Error(`process '${name}' is not part of this stack`);
  return found.env;
}

/** Resolves the entries, checks they are built and the servers answer, opens the databases and plans. */
async function prepare(options: StackOptions) {
  const { scope } = options;
  const table = [...PLATFORM_PROCESSES, ...(options.extraProcesses ?? [])];
  const entries = resolveEntries(table, options.processes, options.standIns);
  assertBuilt(REPO_ROOT, entries);
  await scope.assertReachable(entries.some((e) => e.redis));
  for (const name of options.faults ?? []) {
    if (!entries.some((e) => e.name === name)) {
      throw new Error(`faults: process '${name}' is not part of this stack`);
    }
  }
  const faultPorts = new Map<string, number>();
  for (const name of options.faults ?? []) faultPorts.set(name, await freePort());
  const databases = await scope.open(entries.filter((e) => e.database).map((e) => e.name));
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'aio-stack-state-'));
  try {
    const plan = await planProcesses({
      root: REPO_ROOT,
      table,
      entries,
      standIns: options.standIns ?? {},
      scope,
      databases,
      replicas: options.replicas ?? {},
      basePort: options.basePort,
      commonEnv: options.commonEnv ?? {},
      env: options.env ?? {},
      nodeArgs: options.nodeArgs ?? {},
      faultPorts,
      stateDir,
    });
    return { entries, databases, plan, faultPorts, stateDir };
  } catch (err) {
    await scope.close();
    releaseState(options, stateDir);
    throw err;
  }
}

/** Removes the state directory the stack made (one its caller gave it is the caller's). */
function releaseState(options: StackOptions, stateDir: string): void {
  if (options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
}

function manage(p: PlannedProcess, logs: StackLogs, options: StackOptions): ManagedProcess {
  return new ManagedProcess({
    ...p,
    logs,
    ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    ...(options.onUnexpectedExit ? { onUnexpectedExit: options.onUnexpectedExit } : {}),
  });
}

/**
 * Each process starts once every process it depends on is ready; independent ones start together.
 * Waits until every start has settled, so that nothing is spawned after a failure was cleaned up.
 */
async function startInOrder(
  entries: readonly ProcessEntry[],
  processes: readonly ManagedProcess[],
  standIns: Readonly<Record<string, string>>,
): Promise<void> {
  const ready = new Map<string, Promise<unknown>>();
  for (const entry of entries) {
    const deps = dependencies(entry).map((d) => ready.get(standIns[d] ?? d));
    const own = Promise.all(deps).then(() =>
      Promise.all(processes.filter((p) => p.entry === entry).map((p) => p.start())),
    );
    ready.set(entry.name, own);
  }
  const failed = (await Promise.allSettled(ready.values())).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Callers first, so nothing calls a process that is already gone. */
async function stopInOrder(
  entries: readonly ProcessEntry[],
  processes: readonly ManagedProcess[],
): Promise<void> {
  for (const entry of [...entries].reverse()) {
    await Promise.all(processes.filter((p) => p.entry === entry).map((p) => p.stop()));
  }
}
