#!/usr/bin/env node
// The shadow comparer of `aio dev` (one stack launcher entry): the local gateway mirrors a route's
// `shadow` percent of GETs here; each is asked of the monolith and the service and compared. Env:
// PORT, AIO_PLATFORM_FILE (default platform.yaml), AIO_SHADOW_LOG (default .aio/shadow.jsonl),
// MONOLITH_URL and <SERVICE>_URL of the local backends.
import { serveShadowComparer } from '../cli/shadow-compare.js';

const comparer = await serveShadowComparer({
  platformFile: process.env.AIO_PLATFORM_FILE ?? 'platform.yaml',
  port: Number(process.env.PORT ?? 0),
  env: process.env,
  logFile: process.env.AIO_SHADOW_LOG ?? '.aio/shadow.jsonl',
});
process.stderr.write(`shadow-compare: ${comparer.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void comparer.close().then(() => process.exit(0));
  });
}
