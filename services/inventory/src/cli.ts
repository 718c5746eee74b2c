import { createPool, createRedis, loadConfig, migrate } from '@aio/kit';
import { inventoryConfigSchema } from './config.js';
import { migrations } from './migrations.js';

import { reconcile } from './reconcile.js';
import { StockStore } from './stock-store.js';

/**
 * `inventory reconcile [--dry-run]`: closes orphaned reservations in the ledger, rebuilds the Redis
 * counters and missing reservation records from Postgres and prints the drift as JSON. Exit 0 when
 * nothing drifted, 3 when it found (and unless --dry-run, repaired) drift or orphans, 1 on error.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...flags] = argv;
  if (command !== 'reconcile' || flags.some((f) => f !== '--dry-run')) {
    process.stderr.write('usage: inventory reconcile [--dry-run]\n');
    return 2;
  }
  const config = loadConfig(inventoryConfigSchema);
  const pool = createPool(config.DATABASE_URL, { max: 2, applicationName: 'inventory-reconcile' });
  const redis = createRedis(config.REDIS_URL);
  try {
    await migrate(pool, migrations);
    const store = new StockStore({
      redis,
      prefix: config.REDIS_KEY_PREFIX,
      retentionSeconds: config.RESERVATION_RETENTION_SECONDS,
    });
    const report = await reconcile(store, pool, { dryRun: flags.includes('--dry-run') });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.drift.length || report.orphanedReservations.length ? 3 : 0;
  } catch (error) {
    process.stderr.write(`reconcile failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await redis.quit().catch(() => undefined);
    await pool.end();
  }
}
