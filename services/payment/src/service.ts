import { loadConfig, runService, serveEventFeed } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { paymentConfigSchema } from './config.js';
import type { PaymentConfig } from './config.js';
import { migrations } from './migrations.js';
import { Payments } from './payments.js';
import { SimulatorPsp } from './psp.js';
import type { PaymentProvider } from './psp.js';
import { registerPaymentRoutes } from './routes.js';

/**
 * Starts the payment service: its API and its event feed (`GET /events`).
 *
 * @param config - @default - loaded from process.env (exit 1 when invalid)
 * @param psp - @default - the simulator
 */
export async function startPayment(
  config: PaymentConfig = loadConfig(paymentConfigSchema),
  processHooks = true,
  psp: PaymentProvider = new SimulatorPsp(),
): Promise<RunningService<PaymentConfig>> {
  return runService({
    name: 'payment',
    config,
    migrations,
    processHooks,
    routes: (ctx) => {
      registerPaymentRoutes(ctx.app, new Payments(ctx.pool, psp));
      serveEventFeed(ctx);
    },
  });
}
