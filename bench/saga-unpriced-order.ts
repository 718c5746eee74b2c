/**
 * The `unpriced` baseline of `npm run bench:saga`: the order service, unchanged, with a price reader
 * that costs nothing (every SKU at 10.00 EUR, version 1, in process). Against it, the priced variants
 * show what reading prices from the catalog (or its cache) adds per order. Started as its own process
 * by the stack launcher (`lib/bench/saga-unpriced-order.mjs`), with order's environment.
 */
import { startTracing } from '@aio/kit/tracing';

startTracing({ serviceName: 'order' });
const { start } = await import('../services/order/src/service.js');
const price = { priceMinor: 1000, currency: 'EUR', version: 1 };
await start(process.env, { readPrice: async (sku) => ({ sku, ...price }) });
