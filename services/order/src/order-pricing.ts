import { fromMinorUnits, HttpProblem, invalidField, requestLimits, toMinorUnits } from '@aio/kit';
import { CatalogUnavailableError, type CatalogPrice, type PriceReader } from './catalog-prices.js';
import type { OrderItem } from './order-saga.js';

/** A line as the client sends it: `unitPrice` is what the client expects to pay, if it says. */
export interface RequestedLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice?: number;
}

/** The priced order: each line at the catalog's price and version, and the total that follows. */
export interface PricedOrder {
  readonly items: OrderItem[];
  readonly total: number;
}

/** Seconds a client should wait before retrying an order the catalog could not price. */
const RETRY_AFTER_SECONDS = 2;

/**
 * Prices an order from the catalog. The catalog's price wins over the client's: a line whose
 * expected `unitPrice` (or whose currency) differs is refused with 409 `PRICE_MISMATCH` carrying the
 * current prices, an unknown SKU with 400 `UNKNOWN_SKU` naming the line, and a catalog that cannot
 * answer with 503 `CATALOG_UNAVAILABLE` and `Retry-After` (nothing was written: a retry is safe).
 * The total is summed in minor units, so nothing is rounded.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-503-service-unavailable
 */
export async function priceOrder(
  lines: readonly RequestedLine[],
  currency: string,
  readPrice: PriceReader,
): Promise<PricedOrder> {
  // the client's expected prices are checked first: a bad one is a 400 without any catalog read
  const expected = lines.map((l, i) =>
    l.unitPrice === undefined ? undefined : toMinorUnits(l.unitPrice, currency, `items[${i}].unitPrice`),
  );
  let prices: (CatalogPrice | null)[];
  try {
    prices = await Promise.all(lines.map((l) => readPrice(l.sku)));
  } catch (err) {
    if (!(err instanceof CatalogUnavailableError)) throw err;
    throw new HttpProblem(503, `the catalog cannot price the order now; retry later (${err.message})`, {
      code: 'CATALOG_UNAVAILABLE',
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }
  const unknown = lines.findIndex((_, i) => prices[i] === null);
  if (unknown >= 0) {
    const sku = lines[unknown]!.sku;
    const problem = invalidField(`items[${unknown}].sku`, `no product ${sku} in the catalog`);
    throw new HttpProblem(400, problem.detail, { ...problem.extra, code: 'UNKNOWN_SKU', sku });
  }
  const mismatches = lines.flatMap((l, i) => {
    const price = prices[i]!;
    const sameCurrency = price.currency === currency;
    if (sameCurrency && (expected[i] === undefined || expected[i] === price.priceMinor)) return [];
    return [
      {
        line: i,
        sku: l.sku,
        ...(l.unitPrice === undefined ? {} : { expectedUnitPrice: l.unitPrice }),
        unitPrice: fromMinorUnits(price.priceMinor, price.currency),
        currency: price.currency,
        catalogVersion: price.version,
      },
    ];
  });
  if (mismatches.length) {
    const first = mismatches[0]!;
    throw new HttpProblem(
      409,
      `items[${first.line}]: the catalog's price of ${first.sku} is ${first.unitPrice} ${first.currency}, got ${first.expectedUnitPrice ?? `an order in ${currency}`}`,
      { code: 'PRICE_MISMATCH', prices: mismatches },
    );
  }
  let totalMinor = 0;
  const items = lines.map((l, i) => {
    const price = prices[i]!;
    totalMinor += l.quantity * price.priceMinor;
    return {
      sku: l.sku,
      quantity: l.quantity,
      unitPrice: fromMinorUnits(price.priceMinor, currency),
      catalogVersion: price.version,
    };
  });
  const total = fromMinorUnits(totalMinor, currency);
  if (total > requestLimits.amountMax) {
    throw invalidField(
      'items',
      `the order total must be at most ${requestLimits.amountMax} ${currency}, got ${total}`,
    );
  }
  return { items, total };
}
