import { isAbsolute, relative, resolve } from 'node:path';
import type { PlatformModel } from '../model/index.js';
import type { CliIo } from './cli-io.js';

/** The `-f, --file` option every platform command takes. */
export const PLATFORM_FILE_FLAG = ['-f, --file <path>', 'platform definition', 'platform.yaml'] as const;

/** Resolves `-f` against the command's cwd, and the name to show in messages. */
export function platformPath(io: CliIo, file: string): { abs: string; shown: string } {
  const abs = isAbsolute(file) ? file : resolve(io.cwd, file);
  const rel = relative(io.cwd, abs);
  return { abs, shown: rel.startsWith('..') ? abs : rel };
}

/**
 * Reads platform.yaml as text for commands that edit it (`aio route`, `aio new service`) or load it.
 * A missing or unreadable file is a `ValidationError` naming the file as the user gave it.
 */
export async function readPlatformSource(
  io: CliIo,
  file: string,
  flag = '-f',
): Promise<{ abs: string; shown: string; text: string }> {
  const { ValidationError } = await import('../model/validation-error.js');
  const { readFile } = await import('node:fs/promises');
  const { abs, shown } = platformPath(io, file);
  try {
    return { abs, shown, text: await readFile(abs, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      code === 'ENOENT'
        ? `file not found; run aio in the platform repo or pass ${flag} <path to platform.yaml>`
        : `cannot read file (${code ?? String(err)})`,
      { file: shown },
    );
  }
}

/** Loads and validates platform.yaml; errors carry the file name as the user gave it. */
export async function readPlatform(io: CliIo, file: string): Promise<PlatformModel> {
  const { parsePlatform } = await import('../model/index.js');
  const { shown, text } = await readPlatformSource(io, file);
  return parsePlatform(text, { file: shown });
}
