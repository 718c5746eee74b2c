import { Command, CommanderError, Option } from 'commander';
import { annotation, inGitHubActions, type CliIo } from './cli-io.js';

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
 * a failed gate, 2 usage error (a bad flag, a bad option value, an unknown choice), 130 cancelled.
 * The one top-level catch of every command ({@link reportError}): one line per error, the stack
 * trace only with `--verbose`, JSON with `--json`, annotations in GitHub Actions.
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
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv as string[]);
    return code;
  } catch (err) {
    return await reportError(err, io, verbose, json);
  }
}

/** One problem as `--json` prints it. */
export interface JsonProblem {
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly path?: string;
}

/**
 * The one place errors become output and exit codes: one line per problem on stderr (no stack
 * trace unless `--verbose`); with `--json`, also `{ ok: false, exitCode, errors }` on stdout; in
 * GitHub Actions, also an `::error` annotation per problem, at its file, line and column.
 *
 * @returns 1 for bad input files, 2 for usage errors, 130 for a cancelled prompt
 */
export async function reportError(err: unknown, io: CliIo, verbose: boolean, json = false): Promise<number> {
  const { ValidationErrors, ValidationError, UsageError } = await import('../model/validation-error.js');
  let exitCode: number;
  let problems: JsonProblem[];
  if (err instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return 0;
    // commander already printed the usage problem on stderr.
    exitCode = 2;
    problems = [{ message: err.message.replace(/^error: /, '') }];
  } else if (err instanceof Error && err.name === 'PromptCancelled') {
    io.err(err.message); // Ctrl-C at a prompt or during the steps: quiet, like a shell
    return 130;
  } else if (err instanceof ValidationErrors || err instanceof ValidationError) {
    const errors = err instanceof ValidationErrors ? err.errors : [err];
    for (const e of errors) io.err(e.message);
    if (err instanceof ValidationErrors) {
      io.err(`${errors.length} problem${errors.length === 1 ? '' : 's'} found`);
    }
    if (verbose) io.err(err.stack ?? '');
    exitCode = 1;
    problems = errors.map((e) => ({
      message: e.message,
      ...e.location,
    }));
  } else if (err instanceof UsageError) {
    io.err(`error: ${err.message}`);
    exitCode = 2;
    problems = [{ message: err.message }];
  } else {
    const message = err instanceof Error ? err.message : String(err);
    io.err(`error: ${message}`);
    io.err(verbose ? ((err as Error).stack ?? '') : 'run again with --verbose for the stack trace');
    exitCode = 1;
    problems = [{ message }];
  }
  if (inGitHubActions(io)) {
    for (const p of problems) {
      io.err(annotation('error', p.message, { file: p.file, line: p.line, col: p.col, title: 'aio' }));
    }
  }
  if (json) io.out(JSON.stringify({ ok: false, exitCode, errors: problems }, null, 2));
  return exitCode;
}
