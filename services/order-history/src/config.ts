import { serviceConfigSchema, z } from '@aio/kit';

const url = z.url();

/**
 * Order-history's env: the kit's variables, and the base URL of each source it projects (the stack
 * passes `<NAME>_URL` for every entry of `calls`). `CATALOG_URL` is optional: without it items carry
 * no names.
 */
export const orderHistoryConfigSchema = serviceConfigSchema.extend({
  ORDER_URL: url,
  PAYMENT_URL: url,
  MONOLITH_URL: url,
  CATALOG_URL: url.optional(),
  /** Events per batch (one transaction each). */
  HISTORY_BATCH: z.coerce.number().int().min(1).max(1000).default(500),
  /** How long one feed read long-polls. */
  HISTORY_WAIT_MS: z.coerce.number().int().min(0).max(30000).default(1000),
  /** Fault injection for the crash test: SIGKILL this process after applying N events of a batch, before its commit (0: never). */
  AIO_HISTORY_CRASH_AFTER: z.coerce.number().int().min(0).default(0),
});

/** Order-history config. */
export type OrderHistoryConfig = z.infer<typeof orderHistoryConfigSchema>;
