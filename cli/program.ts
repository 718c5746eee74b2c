import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import type { CliIo } from './cli-io.js';
import { registerDev } from './dev.js';
import { registerNew } from './new-service.js';
import { registerPipelines } from './pipelines.js';
import { registerRoute } from './route.js';
import { registerRoutes } from './routes.js';
import { registerSchema } from './schema.js';
import { registerSynth } from './synth.js';
import { registerUpdate } from './update.js';
import { registerValidate } from './validate.js';

/** Registers one command. Heavy modules are imported inside the action, never at the top. */
export type RegisterCommand = (program: Command, io: CliIo, done: (code: number) => void) => void;

/** Every `aio` command, in `--help` order. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerValidate,
  registerSynth,
  registerRoutes,
  registerRoute,
  registerSchema,
  registerNew,
  registerUpdate,
  registerPipelines,
  registerDev,
];

/**
 * Runs `aio` with `argv` (as `process.argv`) and returns the exit code: 0 ok, 1 invalid input or a
 * failed gate, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const done = (c: number) => {
    code = c;
  };
  const version = toolkitVersion();
  const program = new Command('aio')
    .description(
      'aio: the AllInOne platform toolkit (platform.yaml → CloudFormation, Kubernetes, services, pipelines)',
    )
    .version(version, '-V, --version')
    .addOption(new Option('--verbose', 'print stack traces and extra detail'))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  for (const register of COMMANDS) register(program, io, done);
  program.commands.forEach((c) =>
    c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }),
  );

  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv as string[]);
    return code;
  } catch (err) {
    return await reportError(err, io, verbose);
  }
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

async function reportError(err: unknown, io: CliIo, verbose: boolean): Promise<number> {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return 0;
    }
    return 2; // commander already printed the usage problem
  }
  const { ValidationErrors, ValidationError, UsageError } = await import('../model/validation-error.js');
  if (err instanceof ValidationErrors) {
    for (const e of err.errors) io.err(e.message);
    io.err(`${err.errors.length} problem${err.errors.length === 1 ? '' : 's'} found`);
    if (verbose) io.err(err.stack ?? '');
    return 1;
  }
  if (err instanceof UsageError) {
    io.err(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof ValidationError) {
    io.err(err.message);
    if (verbose) io.err(err.stack ?? '');
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.err(`error: ${message}`);
  io.err(verbose ? ((err as Error).stack ?? '') : 'run again with --verbose for the stack trace');
  return 1;
}
