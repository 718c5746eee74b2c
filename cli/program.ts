import { createRequire } from 'node:module';
import type { CliIo } from './cli-io.js';
import { runCommands, type RegisterCommand } from './run-commands.js';
import { registerChaos } from './chaos.js';
import { registerDev } from './dev.js';
import { registerNew } from './new-service.js';
import { registerPipelines } from './pipelines.js';
import { registerRoute } from './route.js';
import { registerRoutes } from './routes.js';
import { registerSchema } from './schema.js';
import { registerShadow } from './shadow.js';
import { registerSynth } from './synth.js';
import { registerUpdate } from './update.js';
import { registerValidate } from './validate.js';

export type { RegisterCommand } from './run-commands.js';
export { reportError } from './run-commands.js';

/** Every `aio` command, in `--help` order. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerValidate,
  registerSynth,
  registerRoutes,
  registerRoute,
  registerShadow,
  registerSchema,
  registerNew,
  registerUpdate,
  registerPipelines,
  registerDev,
  registerChaos,
];

/**
 * Runs `aio` with `argv` (as `process.argv`) and returns the exit code: 0 ok, 1 invalid input or a
 * failed gate, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommands(argv, io, {
    name: 'aio',
    description:
      'aio: the AllInOne platform toolkit (platform.yaml → CloudFormation, Kubernetes, services, pipelines)',
    version: toolkitVersion(),
    commands: COMMANDS,
  });
}

/**
 * The toolkit's version, from the nearest package.json above this file: `lib/cli/` when built,
 * `cli/` when run from source (tests).
 */
function toolkitVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === '@aio/platform' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0-unknown';
}
