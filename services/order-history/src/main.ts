// Tracing starts before anything loads pg, fastify or http (see services/kit/README.md).
import { startTracing } from '@aio/kit/tracing';

startTracing({ serviceName: 'order-history' });
const { startOrderHistory } = await import('./service.js');
await startOrderHistory();
