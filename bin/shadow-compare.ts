#!/usr/bin/env node
// The shadow comparer: the gateway's mirror sends a route's `shadow` percent of GETs here; each is
// asked of the monolith and the service and compared. Under `aio dev` it is one stack launcher entry;
// in the cluster it is the image `services/Dockerfile --target shadow-compare` (charts/shadow-comparer.ts).
// Env: PORT, HOST (default 127.0.0.1; 0.0.0.0 in a pod), AIO_SHADOW_ROUTES (a routes JSON file, in the
// cluster) or AIO_PLATFORM_FILE (default platform.yaml), AIO_SHADOW_LOG (default .aio/shadow.jsonl;
// `-` for standard output), MONOLITH_URL and <SERVICE>_URL of the backends.
import { serveShadowComparer } from '../cli/shadow-compare.js';

const routesFile = process.env.AIO_SHADOW_ROUTES;
const comparer = await serveShadowComparer({
  ...(routesFile ? { routesFile } : { platformFile: process.env.AIO_PLATFORM_FILE ?? 'platform.yaml' }),
  port: Number(process.env.PORT ?? 0),
  ...(process.env.HOST ? { host: process.env.HOST } : {}),
  env: process.env,
  logFile: process.env.AIO_SHADOW_LOG ?? '.aio/shadow.jsonl',
});
process.stderr.write(`shadow-compare: ${comparer.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void comparer.close().then(() => process.exit(0));
  });
}
