import {
  currencyDecimals,
  currencySchema,
  fromMinorUnits,
  HttpProblem,
  invalidField,
  requestLimits,
  skuSchema,
  toMinorUnits,
} from '@aio/kit';
import type { FastifyInstance } from '@aio/kit';
import type { ProductInput, ProductStore } from './product-store.js';
import type { ReviewSummaryReader } from './review-summary.js';

const skuParams = { type: 'object', required: ['sku'], properties: { sku: skuSchema } } as const;

/** Largest price in minor units: 10 million major units in a three-decimal currency. */
const PRICE_MINOR_MAX = requestLimits.amountMax * 1000;

const productBody = {
  type: 'object',
  required: ['name', 'priceMinor', 'currency'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' },
    priceMinor: { type: 'integer', minimum: 1, maximum: PRICE_MINOR_MAX },
    currency: currencySchema,
    /** Optimistic concurrency: the write applies only when the product is at this version (0: new). */
    expectedVersion: { type: 'integer', minimum: 0 },
  },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    after: skuSchema,
    limit: { type: 'integer', minimum: 1, maximum: 200 },
  },
} as const;

/** Response shapes: they document the contract; `additionalProperties` keeps extra fields. */
const product = {
  type: 'object',
  required: ['sku', 'name', 'priceMinor', 'currency', 'version'],
  additionalProperties: true,
  properties: {
    sku: { type: 'string' },
    name: { type: 'string' },
    priceMinor: { type: 'integer' },
    currency: { type: 'string' },
    version: { type: 'integer' },
    updatedAt: { type: 'string' },
  },
} as const;
/** The product page: the product and its `reviews` (review's summary, or `{ status: "unavailable" }`). */
const productWithReviews = {
  ...product,
  required: [...product.required, 'reviews'],
  properties: {
    ...product.properties,
    reviews: {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: {
        status: { type: 'string', enum: ['ok', 'unavailable'] },
        count: { type: 'integer' },
        average: { type: ['number', 'null'] },
      },
    },
  },
} as const;
/** What a price reader needs: no name, nothing another service adds to the public document. */
const price = {
  type: 'object',
  required: ['sku', 'priceMinor', 'currency', 'version'],
  additionalProperties: false,
  properties: {
    sku: { type: 'string' },
    priceMinor: { type: 'integer' },
    currency: { type: 'string' },
    version: { type: 'integer' },
  },
} as const;
const productPage = {
  type: 'object',
  required: ['products', 'next'],
  additionalProperties: true,
  properties: { products: { type: 'array', items: product }, next: { type: ['string', 'null'] } },
} as const;
/**
 * Registers catalog's HTTP contract (see services/catalog/README.md): the public reads
 * `GET /products/:sku` (the product page, with review's rating summary from `readReviews`) and
 * `GET /products?after=&limit=`, the operator write `PUT /products/:sku`, and the internal
 * `GET /prices/:sku` that order prices each line from (the product's price and version only, one
 * indexed read: it never waits on review, nor grows with what the product page adds).
 * The change feed `GET /events` is the kit's (`serveEventFeed`, in service.ts).
 */
export function registerCatalogRoutes(
  app: FastifyInstance,
  products: ProductStore,
  readReviews: ReviewSummaryReader,
): void {
  app.get<{ Params: { sku: string } }>(
    '/products/:sku',
    {
      config: { public: true, auth: 'public' },
      schema: { params: skuParams, response: { 200: productWithReviews } },
    },
    async (request) => {
      const found = await products.get(request.params.sku);
      if (!found) throw new HttpProblem(404, `no product ${request.params.sku}`, { sku: request.params.sku });
      // never throws: review slow, failing or down is `{ status: "unavailable" }` within its deadline
      return { ...found, reviews: await readReviews(found.sku) };
    },
  );

  // Internal (no `public`): the gateway never routes it; the mesh lets only the services that
  // declare it (order's CATALOG_CALLS) call it.
  app.get<{ Params: { sku: string } }>(
    '/prices/:sku',
    { schema: { params: skuParams, response: { 200: price } } },
    async (request) => {
      const found = await products.get(request.params.sku);
      if (!found) throw new HttpProblem(404, `no product ${request.params.sku}`, { sku: request.params.sku });
      return {
        sku: found.sku,
        priceMinor: found.priceMinor,
        currency: found.currency,
        version: found.version,
      };
    },
  );

  app.get<{ Querystring: { after?: string; limit?: number } }>(
    '/products',
    {
      config: { public: true, auth: 'public' },
      schema: { querystring: listQuery, response: { 200: productPage } },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await products.list(request.query.after, limit);
      return { products: page, next: page.length === limit ? page.at(-1)!.sku : null };
    },
  );

  // Operator only (no `public`): the gateway never routes it.
  app.put<{ Params: { sku: string }; Body: ProductInput & { expectedVersion?: number } }>(
    '/products/:sku',
    { schema: { params: skuParams, body: productBody, response: { 200: product, 201: product } } },
    async (request, reply) => {
      const { name, priceMinor, currency, expectedVersion } = request.body;
      checkPrice(priceMinor, currency);
      const outcome = await products.put(request.params.sku, { name, priceMinor, currency }, expectedVersion);
      if (outcome.kind === 'version-conflict') {
        throw new HttpProblem(
          409,
          `product ${request.params.sku} is at version ${outcome.currentVersion}, not ${expectedVersion}`,
          { sku: request.params.sku, currentVersion: outcome.currentVersion },
        );
      }
      return reply.code(outcome.kind === 'created' ? 201 : 200).send(outcome.product);
    },
  );
}

/** A price must be a whole amount of the currency's minor units within the platform's limit. */
function checkPrice(priceMinor: number, currency: string): void {
  // toMinorUnits refuses an unknown ISO 4217 code, naming `currency`
  const major = fromMinorUnits(priceMinor, currency);
  toMinorUnits(major, currency, 'priceMinor');
  if (major > requestLimits.amountMax) {
    throw invalidField(
      'priceMinor',
      `must be at most ${requestLimits.amountMax * 10 ** currencyDecimals(currency)} for ${currency} (${requestLimits.amountMax} ${currency}), got ${priceMinor}`,
    );
  }
}
