import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  TEST_REDIS_URL,
  testRedisPrefix,
  waitForHealthy,
  type TestDatabase,
} from '@aio/kit/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Test harness: the three services as separate processes on their own databases and Redis prefix. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export type ServiceName = 'order' | 'inventory' | 'payment';

/** One service process that can be killed and started again on the same port. */
export class ServiceProcess {
  public child: ChildProcess | undefined;
  public readonly url: string;
  public exits = 0;

  public constructor(
    public readonly name: string,
    private readonly service: ServiceName,
    public readonly port: number,
    public env: Record<string, string>,
    private readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts the process and waits for `/healthz`. */
  public async start(extraEnv: Record<string, string> = {}): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(ROOT, 'services', this.service, 'dist/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        OTEL_SDK_DISABLED: 'true',
        ...this.env,
        ...extraEnv,
        PORT: String(this.port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.on('exit', () => this.exits++);
    this.child = child;
    await waitForHealthy(this.url, {
      child,
      name: this.name,
      timeoutMs: 60_000,
      hint: `see ${this.logFile}`,
    });
  }

  /** True while the process runs. */
  public get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the process to exit (e.g. after a fault-injection hook). */
  public async exited(): Promise<void> {
    if (this.running) await once(this.child!, 'exit');
  }

  /** `kill -9`. */
  public async kill9(): Promise<void> {
    if (!this.running) return;
    const exit = once(this.child!, 'exit');
    this.child!.kill('SIGKILL');
    await exit;
  }

  /** Graceful stop (SIGTERM), then SIGKILL after 5 s. */
  public async stop(): Promise<void> {
    if (!this.running) return;
    const exit = once(this.child!, 'exit');
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(t);
  }
}

/** Options of {@link startStack}. */
export interface StackOptions {
  readonly label: string;
  readonly orderReplicas?: number;
  readonly orderEnv?: Record<string, string>;
  readonly inventoryEnv?: Record<string, string>;
  readonly paymentEnv?: Record<string, string>;
  /** Start the order replicas now. @default true */
  readonly startOrders?: boolean;
}

/** A running stack. */
export interface Stack {
  readonly inventory: ServiceProcess;
  readonly payment: ServiceProcess;
  readonly orders: ServiceProcess[];
  readonly logDir: string;
  readonly dbs: Record<ServiceName, TestDatabase>;
  /** A new order process with its own database (not started), stopped and dropped with the stack. */
  isolatedOrder(name: string, env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Creates three databases and a Redis prefix, and starts inventory, payment and the order replicas. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const logDir = await mkdtemp(join(tmpdir(), `aio-${options.label}-`));
  const dbs = {
    order: await createTestDatabase(`${options.label}_order`),
    inventory: await createTestDatabase(`${options.label}_inv`),
    payment: await createTestDatabase(`${options.label}_pay`),
  };
  const prefix = testRedisPrefix(options.label);
  const inventory = new ServiceProcess(
    'inventory',
    'inventory',
    await freePort(),
    {
      DATABASE_URL: dbs.inventory.url,
      DB_POOL_MAX: '4', // Postgres' 100 connections are shared with every other suite
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SWEEP_INTERVAL_MS: '200',
      ...options.inventoryEnv,
    },
    join(logDir, 'inventory.log'),
  );
  const payment = new ServiceProcess(
    'payment',
    'payment',
    await freePort(),
    {
      DATABASE_URL: dbs.payment.url,
      DB_POOL_MAX: '4',
      ...options.paymentEnv,
    },
    join(logDir, 'payment.log'),
  );
  const cleanup = async () => {
    await Promise.all([inventory, payment, ...orders].map((p) => p.kill9()));
    await Promise.all(Object.values(dbs).map((d) => d.drop()));
  };
  const orders: ServiceProcess[] = [];
  try {
    await Promise.all([inventory.start(), payment.start()]);
    for (let i = 0; i < (options.orderReplicas ?? 1); i++) {
      orders.push(
        new ServiceProcess(
          `order-${i}`,
          'order',
          await freePort(),
          {
            DATABASE_URL: dbs.order.url,
            INVENTORY_URL: inventory.url,
            PAYMENT_URL: payment.url,
            RESERVATION_TTL_SECONDS: options.inventoryEnv?.RESERVATION_TTL_SECONDS ?? '900',
            DB_POOL_MAX: '4', // Postgres' 100 connections are shared with every other suite
            ...options.orderEnv,
          },
          join(logDir, `order-${i}.log`),
        ),
      );
    }
    if (options.startOrders ?? true) await Promise.all(orders.map((o) => o.start()));
  } catch (err) {
    await cleanup(); // a failed start must not leak processes or databases
    throw err;
  }
  const extra: ServiceProcess[] = [];
  const extraDbs: TestDatabase[] = [];
  return {
    inventory,
    payment,
    orders,
    logDir,
    dbs,
    isolatedOrder: async (name, env = {}) => {
      const db = await createTestDatabase(`${options.label}_o`);
      extraDbs.push(db);
      const proc = new ServiceProcess(
        name,
        'order',
        await freePort(),
        {
          ...orders[0]?.env,
          INVENTORY_URL: inventory.url,
          PAYMENT_URL: payment.url,
          RESERVATION_TTL_SECONDS: options.inventoryEnv?.RESERVATION_TTL_SECONDS ?? '900',
          ...options.orderEnv,
          ...env,
          DATABASE_URL: db.url,
        },
        join(logDir, `${name}.log`),
      );
      extra.push(proc);
      return proc;
    },
    stop: async () => {
      await Promise.all([...orders, ...extra, inventory, payment].map((p) => p.stop()));
      await Promise.all(extraDbs.map((d) => d.drop()));
      const { Redis } = await import('ioredis');
      const redis = new Redis(TEST_REDIS_URL);
      await deleteRedisKeys(redis, prefix);
      redis.disconnect();
      await Promise.all(Object.values(dbs).map((d) => d.drop()));
    },
  };
}

/** A parsed JSON reply body; tests read fields freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** JSON request helper; returns status and parsed body. */
export async function call(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An order body. */
export function orderBody(
  items: { sku: string; quantity: number }[],
  paymentToken = 'tok_visa',
  customerId = 'c1',
) {
  return { customerId, currency: 'EUR', paymentToken, items: items.map((i) => ({ ...i, unitPrice: 10 })) };
}

/** Polls an order until it is APPROVED or REJECTED (long-polling with `waitMs`). */
export async function waitTerminal(
  orderUrl: () => string,
  orderId: string,
  timeoutMs = 30_000,
): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { status, body } = await call(`${orderUrl()}/orders/${orderId}?waitMs=1000`);
      if (status === 200 && body.status !== 'PENDING') return body;
    } catch {
      await sleep(100); // the replica may be down
    }
    if (Date.now() > deadline) throw new Error(`order ${orderId} not terminal after ${timeoutMs} ms`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
