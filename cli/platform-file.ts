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

/** Loads and validates platform.yaml; errors carry the file name as the user gave it. */
export async function readPlatform(io: CliIo, file: string): Promise<PlatformModel> {
  const { parsePlatform, ValidationError } = await import('../model/index.js');
  const { readFile } = await import('node:fs/promises');
  const { abs, shown } = platformPath(io, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      code === 'ENOENT'
        ? 'file not found; run aio in the platform repo or pass -f <path to platform.yaml>'
        : `cannot read file (${code ?? String(err)})`,
      { file: shown },
    );
  }
  return parsePlatform(text, { file: shown });
}
