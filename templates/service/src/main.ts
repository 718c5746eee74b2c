// Tracing starts before anything loads fastify, pg, ioredis or http, so those are instrumented;
// that is why the service is imported dynamically.
import { startTracing } from '@aio/kit/tracing';

startTracing({ serviceName: '{{name}}' });
const { loadConfig } = await import('@aio/kit');
const { configSchema } = await import('./config.js');
const { startService } = await import('./service.js');
await startService(loadConfig(configSchema));
