import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { FileMap } from './render-service.js';

/**
 * Records everything `aio new service` does to the target folder, so a failed or cancelled run
 * can be undone: `aio new` either completes or leaves the folder as it found it.
 *
 * - A folder that did not exist is removed.
 * - A file the template overwrote (with `--force`) gets its old bytes back; a file it created is
 *   removed, and so is every folder it created.
 * - Top-level entries that appeared during the run (`node_modules/`, `package-lock.json`, `.git/`,
 *   written by `npm install` and `git init`) are removed; the user's own files are never touched.
 */
export class ScaffoldJournal {
  private readonly originals = new Map<string, Buffer>();
  private readonly created: string[] = [];
  private readonly createdDirs: string[] = [];

  private constructor(
    /** The target folder. */
    public readonly dir: string,
    private readonly existed: boolean,
    private readonly before: ReadonlySet<string>,
  ) {}

  /** Starts a journal for `dir`, noting what is there now. */
  public static open(dir: string): ScaffoldJournal {
    const existed = existsSync(dir);
    return new ScaffoldJournal(dir, existed, new Set(existed ? readdirSync(dir) : []));
  }

  /** The template's files that exist in the folder with other content (what `--force` overwrites). */
  public static overwrites(dir: string, files: FileMap): string[] {
    return [...files]
      .filter(([path, text]) => {
        const abs = join(dir, ...path.split('/'));
        return existsSync(abs) && readFileSync(abs, 'utf8') !== text;
      })
      .map(([path]) => path);
  }

  /** Writes a rendered file map, creating folders as needed, remembering what it replaced. */
  public async write(files: FileMap): Promise<void> {
    for (const [path, text] of files) {
      const abs = join(this.dir, ...path.split('/'));
      await this.prepare(abs);
      await writeFile(abs, text);
    }
  }

  /** Copies `source` to the repo-relative `path`. */
  public async copy(source: string, path: string): Promise<void> {
    const abs = join(this.dir, ...path.split('/'));
    await this.prepare(abs);
    await copyFile(source, abs);
  }

  /** Undoes everything: the folder is as it was before {@link open}. */
  public async rollback(): Promise<void> {
    if (!this.existed) {
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    for (const [abs, bytes] of this.originals) await writeFile(abs, bytes);
    for (const abs of this.created) await rm(abs, { force: true });
    for (const abs of [...this.createdDirs].reverse()) await rm(abs, { recursive: true, force: true });
    for (const entry of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (!this.before.has(entry)) await rm(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  private async prepare(abs: string): Promise<void> {
    if (existsSync(abs)) {
      if (!this.originals.has(abs) && !this.created.includes(abs)) this.originals.set(abs, readFileSync(abs));
    } else {
      this.created.push(abs);
    }
    // Note each folder this run creates, outermost first.
    const parts = relative(this.dir, dirname(abs)).split(sep).filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const folder = join(this.dir, ...parts.slice(0, i));
      if (!existsSync(folder)) this.createdDirs.push(folder);
    }
    await mkdir(dirname(abs), { recursive: true });
  }
}
