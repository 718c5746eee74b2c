import type { Command } from 'commander';
import type { ProcessEntry, Stack } from '@aio/stack';
import type { CliIo } from './cli-io.js';

/** Options of `aio dev` (and of `aio dev reconcile`, which reads the same stack). */
export interface DevOptions {
  /** Port of the first process of the table (order); the others take the next ones. */
  readonly basePort: string;
  /** PostgreSQL server URL (without database). */
  readonly pgUrl: string;
  /** Redis URL. */
  readonly redisUrl: string;
  /** Databases are `<prefix>_<process>`. */
  readonly dbPrefix: string;
  /** Every Redis key of the stack starts with it (`<prefix><process>:`). */
  readonly redisPrefix: string;
  /** Seed demo stock and catalog prices. */
  readonly seed: boolean;
  /** Drop the databases and the stack's Redis keys first. */
  readonly reset?: boolean;
  /** Print one JSON line with the URLs when ready, instead of the banner. */
  readonly json?: boolean;
  /** `pretty` or `json`; default: pretty in a terminal. */
  readonly logFormat?: string;
  /** Processes to put behind a fault proxy, comma-separated (`aio chaos <name> --local`). */
  readonly faults?: string;
}

const DEMO_STOCK = { 'DEMO-TSHIRT': 100, 'DEMO-MUG': 50, 'DEMO-POSTER': 5 };
/** The demo products' catalog prices, in EUR cents: order prices every line from the catalog. */
const DEMO_PRICES = { 'DEMO-TSHIRT': 1990, 'DEMO-MUG': 950, 'DEMO-POSTER': 400 };
const HINT =
  'start it (bash .ci/run starts PostgreSQL and Redis when they are down) or point aio dev at it with';

/** `aio dev`: the local stack (every process of the launcher's table) against Postgres and Redis. */
export function registerDev(program: Command, io: CliIo, done: (code: number) => void): void {
  const dev = program
    .command('dev')
    .description(
      'run the local stack (the gateway, the monolith, order, inventory, payment) against Postgres and Redis; Ctrl-C stops it',
    )
    .option('--base-port <port>', 'port of order; the other processes use the next ones', '8080')
    .option(
      '--pg-url <url>',
      'Postgres server',
      process.env.AIO_DEV_PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
    )
    .option('--redis-url <url>', 'Redis server', process.env.AIO_DEV_REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--db-prefix <name>', 'databases are <name>_<process>, e.g. <name>_order', 'aio')
    .option('--redis-prefix <prefix>', "prefix of the stack's Redis keys (<prefix><process>:)", 'aio:dev:')
    .option('--no-seed', 'do not seed demo stock and prices')
    .option('--reset', "drop the local databases and the stack's Redis keys (its prefix only) first")
    .option('--json', 'print one JSON line with the URLs when ready: { gateway, monolith, services }')
    .option('--log-format <format>', 'pretty or json (default: pretty in a terminal, json otherwise)')
    .option(
      '--faults <names>',
      'put these processes (comma-separated, e.g. review) behind a fault proxy that aio chaos <name> --local drives',
    )
    .action(async (opts: DevOptions) => done(await devCommand(io, opts)));
  dev
    .command('token')
    .description(
      'print a token of the running aio dev stack\'s development issuer for a customer (curl -H "authorization: Bearer $(npx aio dev token --customer alice)")',
    )
    .option('--customer <id>', 'the customer the token is for (its subject)')
    .action(async (opts: { customer?: string }, cmd: Command) => {
      const { devTokenCommand } = await import('./dev-token.js');
      done(await devTokenCommand(io, cmd.parent!.opts<DevOptions>().basePort, opts.customer));
    });
  dev
    .command('reconcile')
    .description("rebuild inventory's Redis counters from its Postgres ledger, on the aio dev stack")
    .option('--dry-run', 'report the drift without repairing it')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) =>
      done(await reconcileCommand(io, cmd.parent!.opts<DevOptions>(), opts.dryRun ?? false)),
    );
}

/**
 * Runs the local stack until SIGINT/SIGTERM, then stops it (callers first).
 *
 * @returns 0 after a clean stop, 1 when a dependency is down, a process failed to start or died
 */
export async function devCommand(io: CliIo, opts: DevOptions): Promise<number> {
  const lib = await import('@aio/stack');
  const { scope, basePort } = await devScope(opts);
  const format = opts.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty' && format !== 'json') {
    const { UsageError } = await import('../model/validation-error.js');
    throw new UsageError(`--log-format: must be pretty or json, got ${format}`);
  }
  const processes = lib.PLATFORM_PROCESSES.map((e) => e.name);
  const faults = (opts.faults ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const name of faults) {
    if (!processes.includes(name)) {
      const { UsageError } = await import('../model/validation-error.js');
      throw new UsageError(
        `--faults: '${name}' is not a process of the stack; known are ${processes.join(', ')}`,
      );
    }
  }
  const devState = await import('./dev-state.js');
  let stack: Stack | undefined;
  let stopping = false;
  let early: number | undefined; // the exit code when a signal or a death came during startup
  let stopped: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (stopped = resolve));
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    io.err('stopping the local stack ...');
    if (stack) void stack.stop().then(() => stopped(0));
    else early = 0;
  };
  try {
    if (opts.reset) {
      await scope.assertReachable(true);
      const withDb = lib.resolveEntries(lib.PLATFORM_PROCESSES, processes).filter((e) => e.database);
      const { databases, keys } = await scope.reset(withDb.map((e) => e.name));
      for (const name of databases) io.err(`dropped database ${name}`);
      io.err(`deleted ${keys} Redis key${keys === 1 ? '' : 's'} under ${scope.redisPrefix}`);
    }
    const formatLine = await lib.logLineFormatter(format, format === 'pretty' && !!process.stderr.isTTY);
    // Ctrl-C during startup is handled too: the processes started so far are stopped, none is left
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stack = await lib.startStack({
      processes,
      scope,
      basePort,
      faults,
      // the token issuer's keys outlive this run, so tokens printed by `aio dev token` do too
      stateDir: devState.devStateDir(),
      logs: lib.StackLogs.toLines((name, line) => io.err(formatLine(name, line))),
      onUnexpectedExit: (p, how) => {
        if (stopping) return;
        stopping = true;
        io.err(`${p.name} exited (${how}); stopping the others`);
        if (stack) void stack.stop().then(() => stopped(1));
        else early = 1; // died while the others were starting
      },
    });
    for (const name of scope.created) io.err(`created database ${name}`);
    if (early !== undefined) {
      await stack.stop();
      return early;
    }
    if (opts.seed) {
      await seedStock(stack.process('inventory').url, io);
      await seedProducts(stack.process('catalog').url, io);
    }
    const proxies = Object.fromEntries(faults.map((name) => [name, stack!.fault(name).url]));
    if (faults.length > 0) await devState.writeDevState(opts.basePort, { pid: process.pid, faults: proxies });
    io.out(
      opts.json
        ? JSON.stringify({
            ...readyLine(stack, lib.PLATFORM_PROCESSES),
            ...(faults.length ? { faults: proxies } : {}),
          })
        : banner(stack) +
            faults
              .map(
                (name) =>
                  `\nfault proxy: ${name} at ${proxies[name]}  (aio chaos ${name} --local --abort 50%)`,
              )
              .join(''),
    );
    const code = await finished;
    io.err('stopped');
    return code;
  } catch (err) {
    if (early === 0) return 0; // interrupted during startup: what was started is stopped
    if (!(err instanceof lib.StackError)) throw err;
    io.err(`error: ${err.message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (faults.length > 0) await devState.removeDevState(opts.basePort);
  }
}

/** `aio dev reconcile`: inventory's `reconcile` command with the environment `aio dev` gives inventory. */
export async function reconcileCommand(io: CliIo, opts: DevOptions, dryRun: boolean): Promise<number> {
  const [lib, { spawn }, { join }] = await Promise.all([
    import('@aio/stack'),
    import('node:child_process'),
    import('node:path'),
  ]);
  const { scope, basePort } = await devScope(opts);
  let env: Readonly<Record<string, string>>;
  try {
    env = await lib.processEnvironment({ processes: ['inventory'], scope, basePort }, 'inventory');
  } catch (err) {
    if (!(err instanceof lib.StackError)) throw err;
    io.err(`error: ${err.message}`);
    return 1;
  }
  const main = join(lib.REPO_ROOT, 'services/inventory/dist/main.js');
  const child = spawn(process.execPath, [main, 'reconcile', ...(dryRun ? ['--dry-run'] : [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => io.err(c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (stdout) io.out(stdout);
  return code ?? 1;
}

async function devScope(opts: DevOptions) {
  const [{ StackScope }, { UsageError }] = await Promise.all([
    import('@aio/stack'),
    import('../model/validation-error.js'),
  ]);
  const basePort = Number(opts.basePort);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65500) {
    throw new UsageError(`--base-port: must be a port from 1 to 65500, got ${opts.basePort}`);
  }
  if (!/^[a-z_][a-z0-9_]*$/.test(opts.dbPrefix)) {
    throw new UsageError(`--db-prefix: must be lowercase letters, digits and _, got ${opts.dbPrefix}`);
  }
  if (!opts.redisPrefix)
    throw new UsageError('--redis-prefix: must not be empty (it bounds what --reset deletes)');
  for (const [flag, value] of [
    ['--pg-url', opts.pgUrl],
    ['--redis-url', opts.redisUrl],
  ] as const) {
    if (!URL.canParse(value)) throw new UsageError(`${flag}: must be a URL, got ${value}`);
  }
  const scope = StackScope.dev({
    pgUrl: opts.pgUrl,
    redisUrl: opts.redisUrl,
    dbPrefix: opts.dbPrefix,
    redisPrefix: opts.redisPrefix,
    hint: `${HINT} --pg-url / --redis-url`,
  });
  return { scope, basePort };
}

/** The `--json` line; the gateway and monolith fields are filled once the table has such entries. */
function readyLine(stack: Stack, table: readonly ProcessEntry[]) {
  const first = (role: string) => stack.processes.find((p) => p.entry.role === role)?.url ?? null;
  const services: Record<string, string> = {};
  for (const e of table) if (e.role === 'service') services[e.name] = stack.process(e.name).url;
  return { gateway: first('gateway'), monolith: first('monolith'), services };
}

function banner(stack: Stack): string {
  const url = (name: string) => stack.process(name).url;
  const gateway = stack.processes.find((p) => p.entry.role === 'gateway');
  return [
    ...(gateway
      ? [`gateway: ${gateway.url}  (the public API as the edge routes it; aio route applies while this runs)`]
      : []),
    'aio dev: the local stack is up',
    ...stack.processes.map((p) => `  ${p.name.padEnd(10)} ${p.url}`),
    '  order: POST /orders, GET /orders/:id, GET /sagas?stuck=true; inventory: GET /stock/:sku; payment: GET /payments/:orderId; catalog: GET /products/:sku',
    `try: curl -s -XPOST ${url('order')}/orders -H 'content-type: application/json' -H 'idempotency-key: demo-1' \\`,
    `       -d '{"customerId":"c1","currency":"EUR","paymentToken":"tok_visa","items":[{"sku":"DEMO-MUG","quantity":1,"unitPrice":9.5}]}'`,
    ...(gateway
      ? [
          `through the gateway: curl -si -c /tmp/aio.jar -b /tmp/aio.jar '${gateway.url}/api/orders?customerId=c1' | grep -i x-served-by`,
        ]
      : []),
    'press Ctrl-C to stop',
  ].join('\n');
}

async function seedStock(inventoryUrl: string, io: CliIo): Promise<void> {
  for (const [sku, available] of Object.entries(DEMO_STOCK)) {
    const res = await fetch(`${inventoryUrl}/stock/${sku}`);
    const current = res.ok
      ? ((await res.json()) as { available: number; reserved: number; sold: number })
      : undefined;
    if (current && current.available + current.reserved + current.sold > 0) continue; // keep what is there
    await fetch(`${inventoryUrl}/stock/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ available }),
    });
    io.err(`seeded ${sku}: ${available}`);
  }
}

/** Gives each demo SKU its catalog price, leaving a product that is already there as it is. */
async function seedProducts(catalogUrl: string, io: CliIo): Promise<void> {
  for (const [sku, priceMinor] of Object.entries(DEMO_PRICES)) {
    if ((await fetch(`${catalogUrl}/products/${sku}`)).ok) continue; // keep what is there
    await fetch(`${catalogUrl}/products/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: sku, priceMinor, currency: 'EUR' }),
    });
    io.err(`priced ${sku}: ${priceMinor / 100} EUR`);
  }
}
