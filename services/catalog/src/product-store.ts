import { recordEvents, withTransaction } from '@aio/kit';
import type { Pool } from '@aio/kit';

/** A product as the catalog serves it. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  /** The price in the currency's minor units (cents, yen, fils). */
  readonly priceMinor: number;
  /** ISO 4217 code. */
  readonly currency: string;
  /** Starts at 1 and grows by one with every change: caches keep the highest they saw. */
  readonly version: number;
  readonly updatedAt: string;
}

/** What an operator sets on a product. */
export interface ProductInput {
  readonly name: string;
  readonly priceMinor: number;
  readonly currency: string;
}

/** Outcome of {@link ProductStore.put}. */
export type PutOutcome =
  | { readonly kind: 'created' | 'updated' | 'unchanged'; readonly product: Product }
  | { readonly kind: 'version-conflict'; readonly currentVersion: number };

/** The outbox's aggregate type of a product: its events are `product.created` and `product.updated`. */
export const PRODUCT_AGGREGATE = 'product';

const COLUMNS = `sku, name, price_minor::float8 AS "priceMinor", currency, version::float8 AS version,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"`;

/** The catalog's Postgres: products, each change recorded in the kit's outbox in its transaction. */
export class ProductStore {
  constructor(private readonly pool: Pool) {}

  /** One product, or undefined. */
  async get(sku: string): Promise<Product | undefined> {
    const { rows } = await this.pool.query<Product>(`SELECT ${COLUMNS} FROM products WHERE sku = $1`, [sku]);
    return rows[0];
  }

  /** Up to `limit` products with a SKU after `after`, in SKU order (keyset pagination). */
  async list(after: string | undefined, limit: number): Promise<Product[]> {
    const { rows } = await this.pool.query<Product>(
      `SELECT ${COLUMNS} FROM products WHERE $1::text IS NULL OR sku > $1 ORDER BY sku LIMIT $2`,
      [after ?? null, limit],
    );
    return rows;
  }

  /**
   * Creates or updates a product and records its event, in one transaction. The same values again
   * are `unchanged` (no new version, no event: a retried PUT is harmless); `expectedVersion` other
   * than the current one is a `version-conflict` and writes nothing. Writers of one SKU take turns
   * (a transaction-scoped advisory lock on it, which also covers a product not created yet), so
   * the check and the write see the same version.
   */
  async put(sku: string, input: ProductInput, expectedVersion?: number): Promise<PutOutcome> {
    return withTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended('catalog:' || $1, 0))", [sku]);
      const { rows } = await client.query<Product>(`SELECT ${COLUMNS} FROM products WHERE sku = $1`, [sku]);
      const current = rows[0];
      if (expectedVersion !== undefined && (current?.version ?? 0) !== expectedVersion) {
        return { kind: 'version-conflict', currentVersion: current?.version ?? 0 };
      }
      if (
        current &&
        current.name === input.name &&
        current.priceMinor === input.priceMinor &&
        current.currency === input.currency
      ) {
        return { kind: 'unchanged', product: current };
      }
      const written = await client.query<Product>(
        `INSERT INTO products (sku, name, price_minor, currency, version) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price_minor = EXCLUDED.price_minor,
           currency = EXCLUDED.currency, version = products.version + 1, updated_at = now()
         RETURNING ${COLUMNS}`,
        [sku, input.name, input.priceMinor, input.currency],
      );
      const product = written.rows[0]!;
      const kind = current ? 'updated' : 'created';
      // the event carries the product as written (state, not a delta): a consumer keeps the highest version
      await recordEvents(client, [
        { aggregateType: PRODUCT_AGGREGATE, aggregateId: sku, type: `product.${kind}`, payload: product },
      ]);
      return { kind, product };
    });
  }
}
