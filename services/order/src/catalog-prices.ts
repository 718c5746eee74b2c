import {
  operationUrl,
  participantCall,
  serviceOperation,
  StepFailure,
  type ServiceOperation,
} from '@aio/kit';

/** The catalog operations order calls (its contract's `x-aio-calls`, so the mesh allows exactly these). */
export const CATALOG_CALLS = {
  product: serviceOperation('catalog', 'GET', '/products/{sku}'),
} as const satisfies Record<string, ServiceOperation>;

/** What an order line needs from the catalog: the price and the version it was read at. */
export interface CatalogPrice {
  readonly sku: string;
  /** In the currency's minor units. */
  readonly priceMinor: number;
  readonly currency: string;
  /** The product's version: stored with the order line, so it says which price it used. */
  readonly version: number;
}

/**
 * The one way order reads a price: the product's price, `null` for a SKU the catalog does not have,
 * or a {@link CatalogUnavailableError} when the catalog cannot answer. Orders are priced through it
 * only, so a cache in front of the catalog is a change of this function alone.
 */
export type PriceReader = (sku: string) => Promise<CatalogPrice | null>;

/** The catalog did not answer (down, blackholed, 5xx) and no usable cached price was left. */
export class CatalogUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogUnavailableError';
  }
}

/** Props of {@link catalogPriceReader}. */
export interface CatalogPriceReaderProps {
  /** Catalog base URL, e.g. `http://catalog:8080`. */
  readonly catalogUrl: string;
  /** Time one read may take before the catalog counts as unavailable. */
  readonly timeoutMs: number;
}

/**
 * Reads prices straight from the catalog's `GET /products/:sku`, over the kit's HTTP client (trace
 * context, keep-alive), within `timeoutMs`: a blackholed catalog costs one timeout, never a hang.
 */
export function catalogPriceReader(props: CatalogPriceReaderProps): PriceReader {
  const op = CATALOG_CALLS.product;
  return async (sku) => {
    try {
      const { body } = await participantCall({
        url: operationUrl(props.catalogUrl, op, { sku }),
        method: op.method,
        participant: 'catalog',
        timeoutMs: props.timeoutMs,
      });
      return toPrice(body);
    } catch (err) {
      if (err instanceof StepFailure && err.status === 404) return null;
      throw new CatalogUnavailableError(`catalog: ${(err as Error).message}`);
    }
  };
}

/** The catalog's product document as a {@link CatalogPrice}; anything else is an unusable answer. */
function toPrice(body: Record<string, unknown>): CatalogPrice {
  const { sku, priceMinor, currency, version } = body;
  if (
    typeof sku !== 'string' ||
    !Number.isSafeInteger(priceMinor) ||
    typeof currency !== 'string' ||
    !Number.isSafeInteger(version)
  ) {
    throw new CatalogUnavailableError(
      `catalog answered a product without sku, priceMinor, currency or version`,
    );
  }
  return { sku, priceMinor: priceMinor as number, currency, version: version as number };
}
