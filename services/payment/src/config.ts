import { serviceConfigSchema, z } from '@aio/kit';

/** Payment's env: the kit's variables plus the PSP choice. */
export const paymentConfigSchema = serviceConfigSchema.extend({
  /** Which payment service provider adapter to use. @default simulator */
  PSP: z.enum(['simulator']).default('simulator'),
});

/** Payment config. */
export type PaymentConfig = z.infer<typeof paymentConfigSchema>;
