import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { PLATFORM_FILE_FLAG, readPlatform } from './platform-file.js';

/** `aio validate`: checks platform.yaml and reports every problem at once. */
export function registerValidate(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('validate')
    .description('check platform.yaml and list every problem with its line and column')
    .option(...PLATFORM_FILE_FLAG)
    .action(async (opts: { file: string }) => done(await validateCommand(io, opts)));
}

export async function validateCommand(io: CliIo, opts: { file: string }): Promise<number> {
  const model = await readPlatform(io, opts.file);
  const routed = model.routedServices.length;
  io.out(
    `${model.file}: ok (${model.services.length} services, ${model.environments.length} environments, ` +
      `${routed} routed, ${model.callGraph().length} allowed calls)`,
  );
  return 0;
}
