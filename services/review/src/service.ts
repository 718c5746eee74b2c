import { loadConfig, runService } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { reviewConfigSchema } from './config.js';
import type { ReviewConfig } from './config.js';
import { migrations } from './migrations.js';
import { Reviews } from './reviews.js';
import { registerReviewRoutes } from './routes.js';

/**
 * Starts the review service.
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 */
export async function startReview(
  config: ReviewConfig = loadConfig(reviewConfigSchema),
  processHooks = true,
): Promise<RunningService<ReviewConfig>> {
  return runService({
    name: 'review',
    config,
    migrations,
    processHooks,
    routes: ({ app, pool }) => registerReviewRoutes(app, new Reviews(pool)),
  });
}
