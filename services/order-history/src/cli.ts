#!/usr/bin/env node
import { createLogger, createPool, migrate, parseConfig, ConfigError } from '@aio/kit';
import { orderHistoryConfigSchema } from './config.js';
import { migrations } from './migrations.js';
import { rebuildProjection } from './rebuild.js';
import { sourcesOf } from './sources.js';

const USAGE = 'usage: order-history rebuild [--verbose]';

/**
 * `order-history rebuild`: replays every source feed from position 0 into new tables and swaps them
 * in while the service keeps serving (rebuild.ts). Env as the service's (`DATABASE_URL`, the source
 * URLs). Exit 0 when swapped, 1 when it failed (nothing swapped), 2 for bad usage.
 */
async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  if (args.length !== 1 || args[0] !== 'rebuild') {
    process.stderr.write(`${args.length ? `unknown command: ${args.join(' ')}\n` : ''}${USAGE}\n`);
    return 2;
  }
  const logger = createLogger({ name: 'order-history-rebuild', level: verbose ? 'debug' : 'warn' });
  try {
    const config = parseConfig(orderHistoryConfigSchema, process.env);
    const pool = createPool(config.DATABASE_URL, { statementTimeoutMillis: 0 });
    try {
      await migrate(pool, migrations);
      const result = await rebuildProjection(pool, sourcesOf(config), logger);
      process.stdout.write(
        `rebuilt: ${result.events} events replayed (${result.caughtUp} during the swap) in ${result.ms} ms; swapped in\n`,
      );
      return 0;
    } finally {
      await pool.end();
    }
  } catch (err) {
    if (err instanceof ConfigError)
      for (const i of err.issues) process.stderr.write(`config error: ${i.name}: ${i.message}\n`);
    else process.stderr.write(`rebuild failed: ${(err as Error).message}\n`);
    if (verbose) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
