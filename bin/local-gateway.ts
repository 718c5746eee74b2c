#!/usr/bin/env node
// The local gateway process of `aio dev` (one stack launcher entry): nginx rendered from
// platform.yaml's gateway objects, reloaded when the file changes. Env: PORT, AIO_PLATFORM_FILE
// (default platform.yaml), MONOLITH_URL and <SERVICE>_URL of the local backends.
import { serveLocalGateway } from '../cli/gateway-process.js';

const gateway = await serveLocalGateway({
  platformFile: process.env.AIO_PLATFORM_FILE ?? 'platform.yaml',
  port: Number(process.env.PORT ?? 8000),
  env: process.env,
});
process.stderr.write(`gateway: ${gateway.url} (nginx, ${gateway.dir})\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => process.exit(0));
  });
}
