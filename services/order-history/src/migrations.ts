import type { Migration } from '@aio/kit';

/**
 * The projection's tables, for one name suffix: `''` for the live ones, `_rebuild` while
 * `order-history rebuild` replays every source beside them (see rebuild.ts). Each set is complete:
 * the rows, the inbox of processed event ids, and the cursor per source, so a set swapped in is
 * consistent with itself.
 *
 * - `history_order`: one row per order and side (`source` = `order` or `monolith`), with the order's
 *   sequence as its version guard (an older event never overwrites a newer state).
 * - `history_payment`: the payment status of a service order, with the payment's sequence.
 * - `history_product`: catalog names by SKU, with the product's sequence.
 * - `history_inbox`: (source, event id) of every event applied, written in the event's transaction.
 * - `history_cursor`: where each source's feed was read up to, in the same transaction.
 */
export function projectionTablesSql(suffix: string): string {
  const t = (name: string) => `history_${name}${suffix}`;
  return `
CREATE TABLE ${t('order')} (
  source           text NOT NULL,
  order_id         text NOT NULL,
  customer_id      text NOT NULL,
  status           text NOT NULL,
  rejection_reason text,
  items            jsonb NOT NULL,
  total            numeric(16, 3) NOT NULL,
  currency         text NOT NULL,
  placed_at        timestamptz NOT NULL,
  seq              bigint NOT NULL,
  PRIMARY KEY (source, order_id)
);
CREATE INDEX ON ${t('order')} (customer_id, placed_at DESC, source DESC, order_id DESC);
CREATE TABLE ${t('payment')} (
  order_id text PRIMARY KEY,
  status   text NOT NULL,
  reason   text,
  seq      bigint NOT NULL
);
CREATE TABLE ${t('product')} (
  sku  text PRIMARY KEY,
  name text NOT NULL,
  seq  bigint NOT NULL
);
CREATE TABLE ${t('inbox')} (
  source   text NOT NULL,
  event_id uuid NOT NULL,
  PRIMARY KEY (source, event_id)
);
CREATE TABLE ${t('cursor')} (
  source        text PRIMARY KEY,
  cursor        text NOT NULL,
  last_event_at timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);`;
}

/** The names of one set of projection tables, in the order a swap renames them. */
export const PROJECTION_TABLES = ['order', 'payment', 'product', 'inbox', 'cursor'] as const;

/** Order-history's schema: the live projection tables. */
export const migrations: Migration[] = [{ id: '001_projection', sql: projectionTablesSql('') }];
