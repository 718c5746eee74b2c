import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileMap } from './render-service.js';

/**
 * Writes a rendered file map under `dir`, creating folders as needed. Existing files with the
 * same path are overwritten; other files are left alone.
 */
export async function writeFileMap(dir: string, files: FileMap): Promise<void> {
  for (const [path, text] of files) {
    const target = join(dir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
}

/** True when `dir` does not exist or holds nothing. */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Draws a file map as a tree, the way `tree` does, marking managed files.
 *
 * @param root the folder name shown on the first line
 * @param isManaged marks a file with `(managed)`
 */
export function formatTree(root: string, files: FileMap, isManaged: (path: string) => boolean): string {
  interface Folder {
    folders: Map<string, Folder>;
    files: string[];
  }
  const top: Folder = { folders: new Map(), files: [] };
  for (const path of files.keys()) {
    const parts = path.split('/');
    let at = top;
    for (const part of parts.slice(0, -1)) {
      if (!at.folders.has(part)) at.folders.set(part, { folders: new Map(), files: [] });
      at = at.folders.get(part)!;
    }
    at.files.push(path);
  }
  const lines = [`${root}/`];
  const walk = (folder: Folder, prefix: string): void => {
    const entries: [string, Folder | string][] = [
      ...[...folder.folders.entries()].sort(([a], [b]) => a.localeCompare(b)),
      ...folder.files.sort().map((f): [string, string] => [f.split('/').at(-1)!, f]),
    ];
    entries.forEach(([name, entry], i) => {
      const lastOne = i === entries.length - 1;
      const branch = lastOne ? '└── ' : '├── ';
      if (typeof entry === 'string') {
        const bytes = Buffer.byteLength(files.get(entry)!);
        lines.push(`${prefix}${branch}${name}  ${bytes} B${isManaged(entry) ? '  (managed)' : ''}`);
      } else {
        lines.push(`${prefix}${branch}${name}/`);
        walk(entry, prefix + (lastOne ? '    ' : '│   '));
      }
    });
  };
  walk(top, '');
  return lines.join('\n');
}
