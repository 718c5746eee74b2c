import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

/** `aio schema`: the JSON Schema of platform.yaml. */
export function registerSchema(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of platform.yaml (editors use it through the yaml-language-server comment)',
    )
    .action(async () => {
      const { platformJsonSchema } = await import('../model/json-schema.js');
      io.out(JSON.stringify(platformJsonSchema(), null, 2));
      done(0);
    });
}
