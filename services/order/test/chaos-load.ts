import type pg from 'pg';
import type { ManagedProcess, Stack } from '@aio/stack';
import { call, orderBody, sleep, type StackEnv } from './order-client.js';

/**
 * The saga chaos load, shared by order's chaos test (order-saga.chaos.test.ts) and order-history's
 * convergence test (services/order-history/test/order-history.convergence.test.ts): orders over three
 * hot SKUs with some payments declined, placed idempotently on whichever order replica is up, while
 * a killer `kill -9`s every process of the stack in random rounds.
 */

/** Clients placing orders side by side, each waiting for its order before the next. */
export const CHAOS_CONCURRENCY = 60;
export const CHAOS_SKUS = ['HOT-1', 'HOT-2', 'HOT-3'];
/** The saga deadline: once the faults stop, no order may stay PENDING longer. */
export const CHAOS_DEADLINE_SECONDS = 8;
/** Faults stop after this long (or when the load ends); every process is killed at least once before. */
export const CHAOS_SECONDS = Number(process.env.AIO_CHAOS_SECONDS ?? 45);

/**
 * The saga settings under chaos: reservations outlive a deadline's worth of kills, a saga's lease
 * passes to the other replica within 3 s of a kill, and a participant call waits 2 s at most.
 */
export const CHAOS_SAGA_ENV = {
  inventory: { RESERVATION_TTL_SECONDS: '20' },
  order: {
    SAGA_DEADLINE_SECONDS: String(CHAOS_DEADLINE_SECONDS),
    SAGA_TTL_MARGIN_SECONDS: '5',
    SAGA_LEASE_MS: '3000',
    SAGA_POLL_MS: '200',
    PARTICIPANT_TIMEOUT_MS: '2000',
  },
} as const satisfies StackEnv;

/** Order `i`: one to three hot SKUs, 8 % declined and 4 % without funds, for `customer`. */
export function randomChaosOrder(i: number, customer: string) {
  const skus = CHAOS_SKUS.filter(() => Math.random() < 0.5);
  const items = (skus.length ? skus : [CHAOS_SKUS[i % 3]!]).map((sku) => ({
    sku,
    quantity: 1 + Math.floor(Math.random() * 2),
  }));
  const r = Math.random();
  const token = r < 0.08 ? 'tok_chargeDeclined' : r < 0.12 ? 'tok_insufficientFunds' : 'tok_visa';
  return orderBody(items, token, customer);
}

/**
 * POSTs order `i` with Idempotency-Key `key` until an order replica accepts it, moving to the other
 * replica while one is down; resolves to the order id.
 */
export async function placeIdempotent(
  replicas: () => readonly ManagedProcess[],
  i: number,
  body: unknown,
  key: string,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const replica = replicas()[(attempt + i) % 2]!;
    try {
      const res = await call(`${replica.url}/orders`, 'POST', body, { 'idempotency-key': key });
      if (res.status === 202) return res.body.orderId as string;
    } catch {
      // replica down: try the other one
    }
    if (attempt > 400) throw new Error(`could not place ${key}`);
    await sleep(50);
  }
}

/**
 * Every process, the token issuer too: it reloads its keys from the stack's state directory, so the
 * tokens it signed outlive its restart, as an identity provider's do.
 */
export const chaosVictims = (stack: Stack): ManagedProcess[] => [...stack.processes];

/** The running killer of {@link startChaos}. */
interface Chaos {
  /** The victims' names, one per kill, in order. */
  readonly kills: readonly string[];
  /** Resolves after the first full round (or when the killer ends early), so every process was killed. */
  readonly firstRound: Promise<void>;
  /** Stops the killer and waits for its current kill and restart; a killer that failed is ignored. */
  end(): Promise<void>;
}

/**
 * Starts rounds of `kill -9` over {@link chaosVictims} in random order, a second or two apart, each
 * victim started again after 100 to 500 ms, until {@link CHAOS_SECONDS} pass or `end` is called.
 * `onRestart` hears each victim back with the time it was down.
 */
function startChaos(
  stack: Stack,
  onRestart?: (victim: string, killedAt: number, downMs: number) => void,
): Chaos {
  let done = false;
  const kills: string[] = [];
  let firstRoundOver!: () => void;
  const firstRound = new Promise<void>((resolve) => (firstRoundOver = resolve));
  const run = async () => {
    const until = Date.now() + CHAOS_SECONDS * 1000;
    while (!done && Date.now() < until) {
      const round = chaosVictims(stack).sort(() => Math.random() - 0.5);
      for (const victim of round) {
        await sleep(800 + Math.random() * 1200);
        if (done) return;
        const t0 = Date.now();
        await victim.kill9();
        kills.push(victim.name);
        await sleep(100 + Math.random() * 400);
        for (let attempt = 1; ; attempt++) {
          try {
            await victim.start();
            onRestart?.(victim.name, t0, Date.now() - t0);
            break;
          } catch (err) {
            if (attempt >= 3) throw err;
          }
        }
      }
      firstRoundOver();
    }
  };
  const killer = run();
  // a killer that fails or ends early must not leave the load waiting forever
  void killer.finally(() => firstRoundOver()).catch(() => undefined);
  return {
    kills,
    firstRound,
    async end() {
      done = true;
      await killer.catch(() => undefined);
    },
  };
}

/** What {@link underChaos} did. */
export interface ChaosRun {
  /** The victims' names, one per kill, in order. */
  readonly kills: readonly string[];
  /** From the first order to the last one placed. */
  readonly seconds: number;
}

/**
 * Places orders 0 to `orders - 1` with `place`, {@link CHAOS_CONCURRENCY} clients side by side,
 * while the killer of {@link startChaos} runs; the last tenth waits for its first round, so every
 * process is killed while orders are in flight however fast they run. Then stops the killer and
 * starts whatever it left down. `onRestart` hears each victim back with the time it was down.
 */
export async function underChaos(
  stack: Stack,
  orders: number,
  place: (i: number) => Promise<void>,
  onRestart?: (victim: string, killedAt: number, downMs: number) => void,
): Promise<ChaosRun> {
  const chaos = startChaos(stack, onRestart);
  let next = 0;
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: CHAOS_CONCURRENCY }, async () => {
        while (next < orders) {
          const i = next++;
          if (i >= orders * 0.9) await chaos.firstRound;
          await place(i);
        }
      }),
    );
  } finally {
    await chaos.end();
  }
  const seconds = (Date.now() - started) / 1000;
  for (const p of stack.processes) if (!p.running) await p.start();
  return { kills: chaos.kills, seconds };
}

/**
 * Waits, up to {@link CHAOS_DEADLINE_SECONDS}, until the order database `db` holds no PENDING
 * order; resolves to how many are left.
 */
export async function pendingAfterDeadline(db: pg.Client): Promise<number> {
  const faultsStopped = Date.now();
  let pending = -1;
  while (pending !== 0 && Date.now() - faultsStopped < CHAOS_DEADLINE_SECONDS * 1000) {
    pending = (await db.query("SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'")).rows[0]
      .n as number;
    if (pending) await sleep(200);
  }
  return pending;
}
