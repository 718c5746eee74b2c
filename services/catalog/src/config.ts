import { serviceConfigSchema, z } from '@aio/kit';

/** Catalog's env: the kit's variables plus the change feed's long-poll bound. */
export const catalogConfigSchema = serviceConfigSchema.extend({
  /** How often a long-polling `GET /events?waitMs=` looks for new changes. @default 100 */
  FEED_POLL_MS: z.coerce.number().int().positive().default(100),
});

/** Catalog config. */
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
