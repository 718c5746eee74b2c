import type { z } from '@aio/kit';
import { serviceConfigSchema } from '@aio/kit';

/** Review's env: the kit's variables. */
export const reviewConfigSchema = serviceConfigSchema.extend({});

/** Review config. */
export type ReviewConfig = z.infer<typeof reviewConfigSchema>;
