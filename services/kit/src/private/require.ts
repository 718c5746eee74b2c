import { createRequire } from 'node:module';

/**
 * CommonJS `require` for pg and ioredis.
 *
 * Loading them through `require` (not a static `import`) means they are loaded after
 * `startTracing()` ran, and that OpenTelemetry's require hook patches them without an ESM loader flag.
 */
export const requireCjs = createRequire(import.meta.url);
