import { HttpProblem } from '@aio/kit';
import type { LuaScript, Redis } from '@aio/kit';
import { decodeItems, encodeItems, mergeItems } from './reservation.js';
import type {
  FinishOutcome,
  ReservationItem,
  ReservationRecord,
  ReservationStatus,
  ReserveOutcome,
  SetStockOutcome,
  StockLevels,
} from './reservation.js';
import {
  allScripts,
  finishScript,
  forgetScript,
  reserveScript,
  restoreScript,
  setStockScript,
} from './lua/scripts.js';

export * from './reservation.js';

/** Where a reservation that Redis lost can be read again (the Postgres ledger). */
export interface DurableReservations {
  reservation(orderId: string): Promise<ReservationRecord | undefined>;
}

/** Options for {@link StockStore}. */
export interface StockStoreProps {
  readonly redis: Redis;
  /**
   * Read when a commit, release or expiry finds no record in Redis: a record Postgres has is put
   * back first, so the finish acts on its items. @default - none (a missing record is unknown)
   */
  readonly durable?: DurableReservations;
  /** Called when a script finds that Redis lost its data (no epoch key). @default - none */
  readonly onDataLost?: () => void;
  /** Key prefix; `{stock}` follows it. @default inventory: */
  readonly prefix?: string;
  /** Reservation lifetime. @default 900000 */
  readonly ttlMs?: number;
  /** Lifetime of finished reservation records. @default 604800 */
  readonly retentionSeconds?: number;
}

/**
 * The hot stock counters and reservation records in Redis, changed only by Lua scripts.
 *
 * Keys: `<prefix>{stock}:sku:<sku>` (hash available/reserved/sold), `<prefix>{stock}:res:<orderId>`
 * (hash status/items/expiresAt), `<prefix>{stock}:deadlines` (sorted set orderId → expiry ms). The
 * `{stock}` hash tag puts every key in one Redis Cluster slot, so multi-SKU scripts stay atomic; the
 * price is that inventory uses one shard (measured ≈ tens of thousands of reservations/s, see docs/benchmarks.md).
 */
export class StockStore {
  public readonly redis: Redis;
  public readonly prefix: string;
  public readonly ttlMs: number;
  public readonly retentionSeconds: number;
  private readonly durable: DurableReservations | undefined;
  private readonly onDataLost: (() => void) | undefined;

  constructor(props: StockStoreProps) {
    this.redis = props.redis;
    this.prefix = `${props.prefix ?? 'inventory:'}{stock}:`;
    this.ttlMs = props.ttlMs ?? 900_000;
    this.retentionSeconds = props.retentionSeconds ?? 604_800;
    this.durable = props.durable;
    this.onDataLost = props.onDataLost;
  }

  skuKey(sku: string): string {
    return `${this.prefix}sku:${sku}`;
  }

  reservationKey(orderId: string): string {
    return `${this.prefix}res:${orderId}`;
  }

  get deadlinesKey(): string {
    return `${this.prefix}deadlines`;
  }

  /** Written with the counters when they are built from Postgres; gone when Redis lost its data. */
  get epochKey(): string {
    return `${this.prefix}epoch`;
  }

  /** Whether Redis still holds the data of the last rebuild (the epoch key exists). */
  async hasEpoch(): Promise<boolean> {
    return (await this.redis.exists(this.epochKey)) === 1;
  }

  /** Loads every script into Redis's cache. */
  async loadScripts(): Promise<void> {
    for (const script of allScripts) await script.load(this.redis);
  }

  /**
   * Reserves all items or none; the same orderId with the same items (after merging lines per SKU)
   * returns the first outcome, with other items it returns `conflict` and changes nothing.
   */
  async reserve(
    orderId: string,
    requested: readonly ReservationItem[],
    ttlMs = this.ttlMs,
  ): Promise<ReserveOutcome> {
    const items = requested.length === 1 ? requested : mergeItems(requested);
    const keys = [this.reservationKey(orderId), this.deadlinesKey, this.epochKey];
    const encoded = encodeItems(items);
    const args: (string | number)[] = [orderId, ttlMs, encoded, this.retentionSeconds];
    for (const i of items) {
      keys.push(this.skuKey(i.sku));
      args.push(i.quantity);
    }
    const [status, expiresAt, sku, fresh, recorded] = await this.run<
      [ReservationStatus, string | number, string, number, string?]
    >(reserveScript, keys, args);
    return {
      status,
      fresh: fresh === 1,
      conflict: fresh !== 1 && !!recorded && recorded !== encoded,
      // A replay reports the items first recorded (a tombstone has none), not this call's.
      items: fresh === 1 ? items : decodeItems(recorded ?? ''),
      ...(expiresAt ? { expiresAt: Number(expiresAt) } : {}),
      ...(sku ? { sku } : {}),
    };
  }

  /**
   * Undoes a reserve that Redis decided afresh for an order Postgres already had (Redis had lost the
   * record), puts the durable record back, and answers the reserve again from it (a replay).
   */
  async replaceWithDurable(orderId: string, fresh: ReserveOutcome): Promise<ReserveOutcome> {
    const keys = [
      this.reservationKey(orderId),
      this.deadlinesKey,
      ...fresh.items.map((i) => this.skuKey(i.sku)),
    ];
    await this.run(forgetScript, keys, [
      orderId,
      encodeItems(fresh.items),
      ...fresh.items.map((i) => i.quantity),
    ]);
    await this.restore(orderId);
    return this.reserve(orderId, fresh.items);
  }

  /** Reserved → sold. An expired reservation is expired instead (status EXPIRED). */
  commit(orderId: string): Promise<FinishOutcome> {
    return this.finish(orderId, 'COMMITTED');
  }

  /** Reserved → available. Unknown orders get a RELEASED tombstone. */
  release(orderId: string): Promise<FinishOutcome> {
    return this.finish(orderId, 'RELEASED');
  }

  /** Reserved → available, only when past the deadline (the sweeper's call). */
  expire(orderId: string): Promise<FinishOutcome> {
    return this.finish(orderId, 'EXPIRED');
  }

  private async finish(
    orderId: string,
    target: 'COMMITTED' | 'RELEASED' | 'EXPIRED',
  ): Promise<FinishOutcome> {
    // Cluster rule: the script may only touch keys it is given, so read the items first; the script
    // re-checks them (STALE) in case the record appeared or changed in between.
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.redis.hget(this.reservationKey(orderId), 'items');
      // Redis lost the record (a failover, a restart): Postgres may still have it, put it back.
      if (stored === null && attempt === 0 && (await this.restore(orderId))) continue;
      const encoded = stored ?? '';
      const items = decodeItems(encoded);
      const [status, changed] = await this.run<[ReservationStatus | 'NOT_FOUND' | 'STALE', number]>(
        finishScript,
        [
          this.reservationKey(orderId),
          this.deadlinesKey,
          this.epochKey,
          ...items.map((i) => this.skuKey(i.sku)),
        ],
        [orderId, encoded, this.retentionSeconds, target, ...items.map((i) => i.quantity)],
      );
      if (status !== 'STALE') return { status, changed: changed === 1, items };
    }
    throw new Error(`reservation ${orderId} kept changing; retry`);
  }

  /** Writes back the durable record of `orderId` if Redis lacks it; true when it did. */
  private async restore(orderId: string): Promise<boolean> {
    const r = await this.durable?.reservation(orderId);
    if (!r) return false;
    const restored = await this.run<number>(
      restoreScript,
      [this.reservationKey(orderId), this.deadlinesKey, this.epochKey],
      [
        orderId,
        r.status,
        encodeItems(r.items),
        r.expiresAt ?? '',
        r.reason ?? '',
        r.sku ?? '',
        this.retentionSeconds,
      ],
    );
    return restored === 1;
  }

  /**
   * Runs a script; its `NO_EPOCH` error reply (Redis lost its data) becomes a 503 problem, and
   * `onDataLost` starts the rebuild.
   */
  private async run<T>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<T> {
    try {
      return await script.run<T>(this.redis, keys, args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NO_EPOCH')) throw error;
      this.onDataLost?.();
      throw new HttpProblem(
        503,
        'inventory is rebuilding its stock counters after Redis lost its data; retry shortly',
      );
    }
  }

  /** Sets a SKU's available units; returns the change applied (for the ledger) and the levels right after. */
  async setStock(sku: string, available: number): Promise<SetStockOutcome> {
    const [old, reserved, sold] = await this.run<[number, number, number]>(
      setStockScript,
      [this.skuKey(sku), this.epochKey],
      [available],
    );
    return {
      delta: available - Number(old),
      levels: { available, reserved: Number(reserved), sold: Number(sold) },
    };
  }

  /** A SKU's counters, or undefined when Redis has never seen it. */
  async levels(sku: string): Promise<StockLevels | undefined> {
    const [available, reserved, sold] = await this.redis.hmget(
      this.skuKey(sku),
      'available',
      'reserved',
      'sold',
    );
    if (available === null && reserved === null && sold === null) return undefined;
    return { available: Number(available ?? 0), reserved: Number(reserved ?? 0), sold: Number(sold ?? 0) };
  }

  /** The reservation record, or undefined. */
  async getReservation(orderId: string): Promise<ReservationRecord | undefined> {
    const r = await this.redis.hgetall(this.reservationKey(orderId));
    if (!r.status) return undefined;
    return {
      status: r.status as ReservationStatus,
      items: decodeItems(r.items ?? ''),
      ...(r.expiresAt ? { expiresAt: Number(r.expiresAt) } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.sku ? { sku: r.sku } : {}),
    };
  }

  /** Order ids whose deadline is at or before `nowMs`, oldest first. */
  dueReservations(nowMs: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.deadlinesKey, '-inf', nowMs, 'LIMIT', 0, limit);
  }
}
