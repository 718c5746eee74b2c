#!/usr/bin/env node
// The service repo's `aio-service` command: `aio update` of @aio/platform, without the rest of the
// platform toolkit (and its AWS CDK and Pulumi dependencies). The template it renders ships in
// this package, beside lib/, as in @aio/platform, so both find it the same way.
import { createRequire } from 'node:module';
import { processIo } from '../../../cli/cli-io.js';
import { runCommands } from '../../../cli/run-commands.js';
import { registerUpdate } from '../../../cli/update.js';

// Bundled to lib/bin/aio-service.js: the package's own package.json is two levels up.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

process.exitCode = await runCommands(process.argv, processIo, {
  name: 'aio-service',
  description: "aio-service: keep a service repo's platform-managed files current (from @aio/service-chart)",
  version,
  commands: [registerUpdate],
});
