import type { Command } from 'commander';
import type { ChildProcess } from 'node:child_process';
import type * as PathModule from 'node:path';
import type { CliIo } from './cli-io.js';

/** Options of `aio dev`. */
export interface DevOptions {
  /** Port of order; inventory and payment take the next two. */
  readonly basePort: string;
  /** Postgres server URL (without database). */
  readonly pgUrl: string;
  /** Redis URL. */
  readonly redisUrl: string;
  /** Database names are `<prefix>_order`, `<prefix>_inventory`, `<prefix>_payment`. */
  readonly dbPrefix: string;
  /** Inventory's Redis key prefix. */
  readonly redisPrefix: string;
  /** Seed demo stock. */
  readonly seed: boolean;
}

const SERVICES = ['inventory', 'payment', 'order'] as const;
type ServiceName = (typeof SERVICES)[number];
const DEMO_STOCK = { 'DEMO-TSHIRT': 100, 'DEMO-MUG': 50, 'DEMO-POSTER': 5 };

/** `aio dev`: the local stack (order, inventory, payment) against the machine's Postgres and Redis. */
export function registerDev(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('dev')
    .description('run order, inventory and payment locally against Postgres and Redis; Ctrl-C stops them')
    .option('--base-port <port>', 'port of order; inventory and payment use the next two', '8080')
    .option(
      '--pg-url <url>',
      'Postgres server',
      process.env.AIO_DEV_PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
    )
    .option('--redis-url <url>', 'Redis server', process.env.AIO_DEV_REDIS_URL ?? 'redis://127.0.0.1:6379')
    .option('--db-prefix <name>', 'databases are <name>_order, <name>_inventory, <name>_payment', 'aio')
    .option('--redis-prefix <prefix>', "inventory's Redis key prefix", 'aio:dev:inventory:')
    .option('--no-seed', 'do not seed demo stock')
    .action(async (opts: DevOptions) => done(await devCommand(io, opts)));
}

/**
 * Runs the local stack until SIGINT/SIGTERM, then stops the three processes gracefully.
 *
 * @returns 0 after a clean stop, 1 when a service failed to start or died
 */
export async function devCommand(io: CliIo, opts: DevOptions): Promise<number> {
  const [{ spawn }, { existsSync }, path, { UsageError }] = await Promise.all([
    import('node:child_process'),
    import('node:fs'),
    import('node:path'),
    import('../model/validation-error.js'),
  ]);
  const base = Number(opts.basePort);
  if (!Number.isInteger(base) || base < 1 || base > 65533) {
    throw new UsageError(`--base-port: must be a port from 1 to 65533, got ${opts.basePort}`);
  }
  if (!/^[a-z_][a-z0-9_]*$/.test(opts.dbPrefix)) {
    throw new UsageError(`--db-prefix: must be lowercase letters, digits and _, got ${opts.dbPrefix}`);
  }
  const root = findRoot(path, existsSync);
  const mains = Object.fromEntries(
    SERVICES.map((s) => [s, path.join(root, 'services', s, 'dist', 'main.js')]),
  ) as Record<ServiceName, string>;
  const missing = SERVICES.filter((s) => !existsSync(mains[s]));
  if (missing.length) {
    throw new UsageError(
      `${missing.join(', ')} not built: run npm run build (or npx tsc -b services/${missing[0]}) first`,
    );
  }

  const dbs = await ensureDatabases(
    opts.pgUrl,
    SERVICES.map((s) => `${opts.dbPrefix}_${s}`),
  );
  for (const name of dbs.created) io.err(`created database ${name}`);
  const ports: Record<ServiceName, number> = { order: base, inventory: base + 1, payment: base + 2 };
  const url = (s: ServiceName) => `http://127.0.0.1:${ports[s]}`;
  const dbUrl = (s: ServiceName) => `${opts.pgUrl.replace(/\/$/, '')}/${opts.dbPrefix}_${s}`;
  const env: Record<ServiceName, Record<string, string>> = {
    inventory: { REDIS_URL: opts.redisUrl, REDIS_KEY_PREFIX: opts.redisPrefix },
    payment: {},
    order: { INVENTORY_URL: url('inventory'), PAYMENT_URL: url('payment') },
  };

  const children = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  let failed = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
  };
  const finished = new Promise<void>((resolve) => {
    const onSignal = () => {
      io.err('stopping order, inventory and payment ...');
      void stopAll().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    for (const s of SERVICES) {
      const child = spawn(process.execPath, [mains[s]], {
        env: { ...process.env, ...env[s], PORT: String(ports[s]), DATABASE_URL: dbUrl(s) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const prefix = `[${s}] `;
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream?.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) io.err(prefix + line);
        });
      }
      child.on('exit', (code, signal) => {
        if (stopping) return;
        failed = true;
        io.err(`${s} exited (${signal ?? `code ${code}`}); stopping the others`);
        void stopAll().then(resolve);
      });
      children.set(s, child);
    }
  });

  const ready = await waitHealthy(SERVICES.map(url), () => stopping);
  if (ready) {
    if (opts.seed) await seedStock(url('inventory'), io);
    io.out(
      [
        'aio dev: the local stack is up',
        `  order      ${url('order')}   (POST /orders, GET /orders/:id, GET /sagas?stuck=true)`,
        `  inventory  ${url('inventory')}   (GET /stock/:sku)`,
        `  payment    ${url('payment')}   (GET /payments/:orderId)`,
        `try: curl -s -XPOST ${url('order')}/orders -H 'content-type: application/json' -H 'idempotency-key: demo-1' \\`,
        `       -d '{"customerId":"c1","currency":"EUR","paymentToken":"tok_visa","items":[{"sku":"DEMO-MUG","quantity":1,"unitPrice":9.5}]}'`,
        'press Ctrl-C to stop',
      ].join('\n'),
    );
  } else if (!stopping) {
    io.err('services did not become healthy within 30 s; stopping');
    failed = true;
    await stopAll();
    return 1;
  }
  await finished;
  io.err('stopped');
  return failed ? 1 : 0;
}

function findRoot(path: typeof PathModule, exists: (p: string) => boolean): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  while (!exists(path.join(dir, 'services', 'order', 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

async function ensureDatabases(pgUrl: string, names: readonly string[]): Promise<{ created: string[] }> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: `${pgUrl.replace(/\/$/, '')}/postgres` });
  await client.connect();
  const created: string[] = [];
  try {
    for (const name of names) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) continue;
      await client.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by someone else
      });
      created.push(name);
    }
  } finally {
    await client.end();
  }
  return { created };
}

async function waitHealthy(urls: readonly string[], stopped: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  for (const url of urls) {
    for (;;) {
      if (stopped()) return false;
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return true;
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
