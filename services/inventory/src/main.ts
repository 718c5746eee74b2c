#!/usr/bin/env node
// Tracing starts before anything loads pg, ioredis, fastify or http (see services/kit/README.md).
import { startTracing } from '@aio/kit/tracing';

const args = process.argv.slice(2);
if (args.length) {
  const { runCli } = await import('./cli.js');
  process.exitCode = await runCli(args);
} else {
  startTracing({ serviceName: 'inventory' });
  const { startInventory } = await import('./service.js');
  await startInventory();
}
