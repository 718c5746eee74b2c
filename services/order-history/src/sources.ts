import type { OrderHistoryConfig } from './config.js';
import type { Source } from './projector.js';

/**
 * The feeds the read model projects, from the config: the order service's orders, payment's
 * statuses, the monolith's orders (the legacy backfill is this feed read from position 0), and
 * the catalog's product names when `CATALOG_URL` is set.
 */
export function sourcesOf(config: OrderHistoryConfig): Source[] {
  return [
    { name: 'order', url: config.ORDER_URL },
    { name: 'payment', url: config.PAYMENT_URL },
    { name: 'monolith', url: config.MONOLITH_URL },
    ...(config.CATALOG_URL ? [{ name: 'catalog' as const, url: config.CATALOG_URL }] : []),
  ];
}
