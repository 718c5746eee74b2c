/** Reservations as inventory's Redis store and Postgres ledger both see them. */

/** One line of a reservation. */
export interface ReservationItem {
  readonly sku: string;
  readonly quantity: number;
}

/** Terminal and live states of a reservation. */
export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'EXPIRED' | 'REJECTED';

/** Outcome of {@link StockStore.reserve}. */
export interface ReserveOutcome {
  readonly status: ReservationStatus;
  /** Epoch ms, for RESERVED (also when replayed). */
  readonly expiresAt?: number;
  /** The SKU that lacked stock, for REJECTED. */
  readonly sku?: string;
  /** True when this call made the decision; false for a replay. */
  readonly fresh: boolean;
  /**
   * True for a replay whose recorded items differ from this request's: the order id was used for
   * another request (the caller answers 422). A tombstone records no items and never conflicts.
   */
  readonly conflict: boolean;
  /** The order's items (merged per SKU, sorted). */
  readonly items: readonly ReservationItem[];
}

/** Outcome of commit, release or expire. */
export interface FinishOutcome {
  readonly status: ReservationStatus | 'NOT_FOUND';
  /** True when this call changed the reservation. */
  readonly changed: boolean;
  readonly items: readonly ReservationItem[];
}

/** Counters of one SKU. */
export interface StockLevels {
  readonly available: number;
  readonly reserved: number;
  readonly sold: number;
}

/** Outcome of {@link StockStore.setStock}. */
export interface SetStockOutcome {
  /** New available minus the previous value: the ledger's ADJUST entry. */
  readonly delta: number;
  /** The SKU's counters as the script left them. */
  readonly levels: StockLevels;
}

/** A reservation record as Redis holds it. */
export interface ReservationRecord {
  readonly status: ReservationStatus;
  readonly items: readonly ReservationItem[];
  readonly expiresAt?: number;
  readonly reason?: string;
  readonly sku?: string;
}

/** Merges lines of the same SKU and sorts by SKU, so equal orders encode equally. */
export function mergeItems(items: readonly ReservationItem[]): ReservationItem[] {
  const bySku = new Map<string, number>();
  for (const i of items) bySku.set(i.sku, (bySku.get(i.sku) ?? 0) + i.quantity);
  return [...bySku]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/** `sku*qty,sku*qty`: SKUs match `[A-Za-z0-9._:-]`, so the separators are unambiguous. */
export function encodeItems(items: readonly ReservationItem[]): string {
  return items.map((i) => `${i.sku}*${i.quantity}`).join(',');
}

/** Inverse of {@link encodeItems}. */
export function decodeItems(encoded: string): ReservationItem[] {
  if (!encoded) return [];
  return encoded.split(',').map((part) => {
    const [sku, qty] = part.split('*');
    return { sku: sku!, quantity: Number(qty) };
  });
}
