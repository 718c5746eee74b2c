import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, readPlatformSource } from './platform-file.js';

/** `aio validate`: checks platform.yaml and reports every problem at once. */
export function registerValidate(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('validate')
    .description('check platform.yaml and list every problem with its line and column')
    .option(...PLATFORM_FILE_FLAG)
    .option('--json', 'print the result as JSON on stdout, errors included')
    .action(async (opts: { file: string; json?: boolean }) => done(await validateCommand(io, opts)));
}

/**
 * Runs `aio validate`: the schema and cross-checks, then the call budget gate
 * (`model/call-budget.ts`: retries, timeouts, fallbacks and outlier detection over `calls`). A
 * problem throws (every one of them at once, each with its position); the CLI's one error handler
 * prints them, as JSON too with `--json`, and exits 1.
 */
export async function validateCommand(io: CliIo, opts: { file: string; json?: boolean }): Promise<number> {
  const { parsePlatform } = await import('../model/index.js');
  const { assertCallBudget } = await import('../model/call-budget.js');
  const { shown, text } = await readPlatformSource(io, opts.file);
  const model = parsePlatform(text, { file: shown });
  assertCallBudget(model, text);
  const routed = model.routedServices.length;
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          file: model.file,
          services: model.services.length,
          environments: model.environments.length,
          routed,
          allowedCalls: model.callGraph().length,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(
    `${model.file}: ok (${model.services.length} services, ${model.environments.length} environments, ` +
      `${routed} routed, ${model.callGraph().length} allowed calls)`,
  );
  return 0;
}
