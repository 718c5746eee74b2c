// Tracing starts before anything loads pg, fastify or http, so those modules are instrumented.
import { startTracing } from '@aio/kit/tracing';

startTracing({ serviceName: 'monolith' });
const { start } = await import('./service.js');
await start();
