import {
  CacheUnavailableError,
  feedOperation,
  operationUrl,
  participantCall,
  serviceOperation,
  StepFailure,
  type CacheAside,
  type ServiceOperation,
} from '@aio/kit';

/**
 * The catalog operations order calls (its contract's `x-aio-calls`, so the mesh allows exactly
 * these): the internal price read, which never touches what the public product page adds (review
 * ratings), and the change feed that invalidates cached prices.
 */
export const CATALOG_CALLS = {
  price: serviceOperation('catalog', 'GET', '/prices/{sku}'),
  feed: feedOperation('catalog'),
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

/** The catalog did not answer (down, blackholed, 5xx) and no cached price within the grace period was left. */
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
 * Reads prices straight from the catalog's internal `GET /prices/:sku`, over the kit's HTTP client
 * (trace context, keep-alive), within `timeoutMs`: a blackholed catalog costs one timeout, never a hang.
 */
export function catalogPriceReader(props: CatalogPriceReaderProps): PriceReader {
  const op = CATALOG_CALLS.price;
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

/** The price in the kit cache: what a {@link CatalogPrice} holds besides its version. Bump the cache's schema version when it changes. */
export type CachedPrice = Omit<CatalogPrice, 'version'>;

/** Schema version of {@link CachedPrice} in the cache's keys. */
export const PRICE_CACHE_SCHEMA = 1;

/**
 * Reads prices through the kit's {@link CacheAside} in front of `source` (the catalog reader): a warm
 * price costs one Redis round trip; "no such SKU" is cached briefly and still answers `null`; with
 * the catalog down or blackholed a cached price stands in for the cache's grace period, then the
 * cache's {@link CacheUnavailableError} becomes a {@link CatalogUnavailableError}
 * (`CATALOG_UNAVAILABLE`). With Redis down every read goes to `source`.
 */
export function cachedPriceReader(cache: CacheAside<CachedPrice>, source: PriceReader): PriceReader {
  return async (sku) => {
    try {
      const hit = await cache.get(sku, async (key) => {
        const price = await source(key);
        if (!price) return null;
        const { version, ...value } = price;
        return { value, version };
      });
      return hit && { ...hit.value, sku, version: hit.version };
    } catch (err) {
      if (!(err instanceof CacheUnavailableError)) throw err;
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new CatalogUnavailableError(`${err.message}${cause}`);
    }
  };
}

/** The catalog's price document as a {@link CatalogPrice}; anything else is an unusable answer. */
function toPrice(body: Record<string, unknown>): CatalogPrice {
  const { sku, priceMinor, currency, version } = body;
  if (
    typeof sku !== 'string' ||
    !Number.isSafeInteger(priceMinor) ||
    typeof currency !== 'string' ||
    !Number.isSafeInteger(version)
  ) {
    throw new CatalogUnavailableError(
      `catalog answered a price without sku, priceMinor, currency or version`,
    );
  }
  return { sku, priceMinor: priceMinor as number, currency, version: version as number };
}
