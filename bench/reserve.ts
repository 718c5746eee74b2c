/**
 * `npm run bench:reserve`: reservations/s on one hot SKU, at the same concurrency, for
 * (a) inventory's Lua reserve script, (b) a Postgres row-lock `UPDATE … WHERE available >= $n`,
 * (c) Redis WATCH/MULTI, and (d) the ceiling: EVALSHA of a trivial script. Prints the ratios and checks
 * every variant for oversell (a sell-out run with small stock must reserve exactly the stock).
 *
 * Env: BENCH_ROUNDS (default 3) rounds of BENCH_SECONDS (default 2) per variant, the median reported; BENCH_CONCURRENCY clients, each on its own connection (default 32;
 * Postgres allows 100 connections here and other suites share it).
 */
import { createPool, createRedis, LuaScript, migrate } from '@aio/kit';
import type { Pool, Redis } from '@aio/kit';
import { createTestDatabase, deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '@aio/kit/testing';
import { migrations } from '../services/inventory/src/migrations.js';
import { StockLedger } from '../services/inventory/src/stock-ledger.js';
import { StockStore } from '../services/inventory/src/stock-store.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SELL_OUT_STOCK = 500;
const SELL_OUT_ATTEMPTS = 2000;

/** One way to reserve 1 unit of the hot SKU; resolves true when it got the unit. */
interface Variant {
  readonly name: string;
  setStock(available: number): Promise<void>;
  reserve(client: number, seq: number): Promise<boolean>;
  levels(): Promise<{ available: number; reserved: number }>;
}

interface Result {
  readonly name: string;
  readonly perSecond: number;
  readonly oversold: number;
  readonly accountingOk: boolean;
}

async function closedLoop(
  variant: Variant,
  until: (done: number) => boolean,
): Promise<{ ops: number; ok: number; ms: number }> {
  let ops = 0;
  let ok = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      while (!until(ops)) {
        const seq = ops++;
        if (await variant.reserve(client, seq)) ok++;
      }
    }),
  );
  return { ops, ok, ms: performance.now() - start };
}

/** Throughput while stock never runs out; every success must show up in the counters. */
async function throughput(
  variant: Variant,
  seconds = SECONDS,
): Promise<{ perSecond: number; accountingOk: boolean }> {
  const big = 1_000_000_000;
  await variant.setStock(big);
  await closedLoop(variant, (n) => n >= CONCURRENCY * 10); // warm-up
  await variant.setStock(big);
  const before = await variant.levels();
  const deadline = performance.now() + seconds * 1000;
  const run = await closedLoop(variant, () => performance.now() >= deadline);
  const after = await variant.levels();
  const accountingOk =
    before.available - after.available === run.ok &&
    after.available + after.reserved === big + before.reserved;
  return { perSecond: (run.ops / run.ms) * 1000, accountingOk };
}

/** More attempts than stock, all at once: exactly the stock may be reserved. Returns units oversold. */
async function sellOut(variant: Variant): Promise<number> {
  await variant.setStock(SELL_OUT_STOCK);
  const start = await variant.levels();
  const run = await closedLoop(variant, (n) => n >= SELL_OUT_ATTEMPTS);
  const end = await variant.levels();
  return (
    Math.max(0, run.ok - SELL_OUT_STOCK) +
    Math.max(0, -end.available) +
    Math.max(0, end.reserved - start.reserved - SELL_OUT_STOCK)
  );
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

async function connections(n: number): Promise<Redis[]> {
  const list = Array.from({ length: n }, () => createRedis(TEST_REDIS_URL, { enableAutoPipelining: false }));
  await Promise.all(list.map((r) => r.ping()));
  return list;
}

function luaVariant(redis: Redis[], prefix: string, ledger?: () => StockLedger): Variant {
  const stores = redis.map((r) => new StockStore({ redis: r, prefix }));
  const store = stores[0]!;
  let round = 0;
  return {
    name: ledger ? '(e) Lua + Postgres ledger write (the service path, no HTTP)' : '(a) Lua reserve script',
    setStock: async (n) => {
      round++;
      // The service writes the epoch when it builds the counters from Postgres; the bench has no rebuild.
      await store.redis.set(store.epochKey, 'bench');
      await store.setStock('HOT', n);
      await store.redis.hset(store.skuKey('HOT'), 'reserved', 0);
    },
    reserve: async (client, seq) => {
      const orderId = `o-${round}-${seq}`;
      const outcome = await stores[client]!.reserve(orderId, [{ sku: 'HOT', quantity: 1 }]);
      if (ledger) await ledger().record({ orderId, ...outcome });
      return outcome.status === 'RESERVED';
    },
    levels: async () => {
      const l = (await store.levels('HOT'))!;
      return { available: l.available, reserved: l.reserved };
    },
  };
}

function postgresVariant(pool: Pool, name: string): Variant {
  return {
    name,
    setStock: async (n) =>
      void (await pool.query("UPDATE stock SET available = $1, reserved = 0 WHERE sku = 'HOT'", [n])),
    reserve: async () =>
      (
        await pool.query(
          'UPDATE stock SET available = available - $2, reserved = reserved + $2 WHERE sku = $1 AND available >= $2',
          ['HOT', 1],
        )
      ).rowCount === 1,
    levels: async () => (await pool.query("SELECT available, reserved FROM stock WHERE sku = 'HOT'")).rows[0],
  };
}

function watchVariant(redis: Redis[], key: string): Variant {
  const r0 = redis[0]!;
  return {
    name: '(c) Redis WATCH/MULTI',
    setStock: async (n) => void (await r0.hset(key, 'available', n, 'reserved', 0)),
    reserve: async (client) => {
      const r = redis[client]!;
      for (;;) {
        await r.watch(key);
        const available = Number(await r.hget(key, 'available'));
        if (available < 1) {
          await r.unwatch();
          return false;
        }
        const exec = await r.multi().hincrby(key, 'available', -1).hincrby(key, 'reserved', 1).exec();
        if (exec) return true; // null: another client changed the key; retry
      }
    },
    levels: async () => {
      const [a, b] = await r0.hmget(key, 'available', 'reserved');
      return { available: Number(a), reserved: Number(b) };
    },
  };
}

function ceilingVariant(redis: Redis[], key: string): Variant {
  const trivial = new LuaScript('trivial', 'return 1');
  let available = 0;
  let reserved = 0;
  return {
    name: '(d) ceiling: EVALSHA return 1',
    setStock: async (n) => {
      available = n;
      reserved = 0;
    },
    // Nothing to oversell in Redis; the counter is kept client-side so the check still runs.
    reserve: async (client) => {
      await trivial.run(redis[client]!, [key], []);
      if (available < 1) return false;
      available--;
      reserved++;
      return true;
    },
    levels: async () => ({ available, reserved }),
  };
}

async function main(): Promise<void> {
  const prefix = testRedisPrefix('bench_reserve');
  const db = await createTestDatabase('bench_reserve');
  const redis = await connections(CONCURRENCY);
  const setup = createPool(db.url, { max: 1 });
  await setup.query(
    "CREATE TABLE stock (sku text PRIMARY KEY, available int NOT NULL, reserved int NOT NULL); INSERT INTO stock VALUES ('HOT', 0, 0)",
  );
  await migrate(setup, migrations);
  await setup.end();
  // One Postgres pool at a time, so the bench never holds more than CONCURRENCY connections.
  const withPool = (name: string, synchronousCommit: 'on' | 'off'): Variant => {
    let pool: Pool | undefined;
    const lazy = (): Pool => {
      if (!pool) {
        const url = new URL(db.url);
        url.searchParams.set('options', `-c synchronous_commit=${synchronousCommit}`);
        pool = createPool(url.toString(), { max: CONCURRENCY });
      }
      return pool;
    };
    const v = {
      name,
      setStock: (n: number) => postgresVariant(lazy(), name).setStock(n),
      reserve: (c: number, s: number) => postgresVariant(lazy(), name).reserve(c, s),
      levels: () => postgresVariant(lazy(), name).levels(),
      close: async () => {
        await pool?.end();
        pool = undefined;
      },
    };
    return v;
  };
  const durable = new URL(db.url);
  durable.searchParams.set('options', '-c synchronous_commit=on');
  const durableUrl = durable.toString();
  // (e) writes the ledger like the service; informational, not part of the targets.
  let ledgerPool: Pool | undefined;
  const ledgerPrefix = `${prefix}e:`;
  const withLedger = {
    ...luaVariant(
      redis,
      ledgerPrefix,
      () => new StockLedger((ledgerPool ??= createPool(durableUrl, { max: CONCURRENCY }))),
    ),
    close: async () => {
      await ledgerPool?.end();
      ledgerPool = undefined;
    },
  };
  try {
    const variants: Array<Variant & { close?: () => Promise<void> }> = [
      luaVariant(redis, prefix),
      withPool('(b) Postgres UPDATE … WHERE available >= n (synchronous_commit on)', 'on'),
      withPool('(b2) same, synchronous_commit off', 'off'),
      watchVariant(redis, `${prefix}watch:HOT`),
      ceilingVariant(redis, `${prefix}ceiling`),
      withLedger,
    ];
    // Rounds interleave the variants, so a noisy neighbour on the shared machine hits them all alike.
    const samples = variants.map(() => [] as number[]);
    const accounting = variants.map(() => true);
    // A discarded round first: JIT, connection pools and script caches warm up for every variant.
    for (const v of variants) {
      await throughput(v, 0.5);
      await v.close?.();
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, v] of variants.entries()) {
        const t = await throughput(v);
        samples[i]!.push(t.perSecond);
        accounting[i] = accounting[i]! && t.accountingOk;
        await v.close?.();
      }
    }
    const results: Result[] = [];
    for (const [i, v] of variants.entries()) {
      const oversold = await sellOut(v);
      await v.close?.();
      const r = { name: v.name, perSecond: median(samples[i]!), oversold, accountingOk: accounting[i]! };
      results.push(r);
      console.log(
        `${r.name.padEnd(66)} ${Math.round(r.perSecond).toString().padStart(7)}/s  (rounds ${samples[i]!.map(Math.round).join(', ')})  oversold ${r.oversold}  accounting ${r.accountingOk ? 'ok' : 'MISMATCH'}`,
      );
    }
    const [lua, pg, , watch, ceiling] = results as [Result, Result, Result, Result, Result];
    const luaVsCeiling = lua.perSecond / ceiling.perSecond;
    const luaVsPg = lua.perSecond / pg.perSecond;
    console.log(
      `\nconcurrency ${CONCURRENCY}, median of ${ROUNDS} x ${SECONDS} s per variant, Node ${process.version}`,
    );
    console.log(
      `Lua / ceiling   ${luaVsCeiling.toFixed(2)}x  (target >= 0.7)  ${luaVsCeiling >= 0.7 ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `Lua / Postgres  ${luaVsPg.toFixed(1)}x  (target >= 10)   ${luaVsPg >= 10 ? 'PASS' : 'FAIL'}`,
    );
    console.log(`Lua / WATCH     ${(lua.perSecond / watch.perSecond).toFixed(1)}x`);
    const oversold = results.filter((r) => r.oversold > 0 || !r.accountingOk);
    console.log(
      oversold.length
        ? `OVERSELL or accounting mismatch in: ${oversold.map((r) => r.name).join(', ')}`
        : 'oversell: none in any variant',
    );
    if (oversold.length) process.exitCode = 1;
  } finally {
    await deleteRedisKeys(redis[0]!, prefix);
    await Promise.all(redis.map((r) => r.quit()));
    await db.drop();
  }
}

await main();
