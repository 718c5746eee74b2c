import { Command, CommanderError, Option } from 'commander';
import type { CliIo } from './cli-io.js';

/** Registers one command. Heavy modules are imported inside the action, never at the top. */
export type RegisterCommand = (program: Command, io: CliIo, done: (code: number) => void) => void;

/** A command-line tool: `aio`, or the service repo's `aio-service`. */
export interface CommandLine {
  /** The program name, as typed. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** What `--version` prints. */
  readonly version: string;
  /** Its commands, in `--help` order. */
  readonly commands: readonly RegisterCommand[];
}

/**
 * Runs `tool` with `argv` (as `process.argv`) and returns the exit code: 0 ok, 1 invalid input or
 * a failed gate, 2 usage error. The one top-level catch of every command: one line per error, the
 * stack trace only with `--verbose`.
 *
 * Kept apart from `program.ts` so that a tool with a few commands (the light `@aio/service-chart`
 * package's `aio-service`) can be bundled without the modules of every `aio` command.
 */
export async function runCommands(argv: readonly string[], io: CliIo, tool: CommandLine): Promise<number> {
  let code = 0;
  const done = (c: number) => {
    code = c;
  };
  const program = new Command(tool.name)
    .description(tool.description)
    .version(tool.version, '-V, --version')
    .addOption(new Option('--verbose', 'print stack traces and extra detail'))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  for (const register of tool.commands) register(program, io, done);
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

export async function reportError(err: unknown, io: CliIo, verbose: boolean): Promise<number> {
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
  if (err instanceof Error && err.name === 'PromptCancelled') {
    io.err(err.message); // Ctrl-C at a prompt or during the steps: quiet, like a shell
    return 130;
  }
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
