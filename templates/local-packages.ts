import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ValidationError } from '../model/validation-error.js';
import { defaultTemplateDir } from './render-service.js';

/** Where `aio new service --local` puts the packed platform packages in the generated repo. */
export const LOCAL_PACKAGES_DIR = '.aio/packages';

/** One packed package: its name and the tarball `npm pack` wrote. */
export interface PackedPackage {
  readonly name: string;
  /** Absolute path of the `.tgz`. */
  readonly tarball: string;
}

/** The platform checkout this aio runs from: the folder above `templates/`. */
export function platformCheckout(): string {
  return resolve(defaultTemplateDir(), '..', '..');
}

/**
 * The folder of each named package in the platform checkout: the root (`@aio/platform`) or one
 * of its workspaces (`services/kit` for `@aio/kit`).
 *
 * @throws ValidationError when a package is not in the checkout (aio installed from a registry)
 */
export function packageFolders(names: readonly string[], root = platformCheckout()): Map<string, string> {
  const read = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; workspaces?: string[] };
  const rootPkg = read(root);
  const folders = new Map<string, string>();
  const candidates = [root];
  for (const pattern of rootPkg.workspaces ?? []) {
    const base = join(root, pattern.replace(/\/\*$/, ''));
    if (!pattern.endsWith('/*')) candidates.push(join(root, pattern));
    else if (existsSync(base)) {
      for (const d of readdirSync(base, { withFileTypes: true })) {
        if (d.isDirectory() && existsSync(join(base, d.name, 'package.json')))
          candidates.push(join(base, d.name));
      }
    }
  }
  for (const dir of candidates) {
    const name = read(dir).name;
    if (name && names.includes(name)) folders.set(name, dir);
  }
  const missing = names.filter((n) => !folders.has(n));
  if (missing.length > 0) {
    throw new ValidationError(
      `--local packs the platform checkout's packages, but ${missing.join(', ')} is not in ${root}; ` +
        'run aio from a clone of the platform repo, or use --registry <url>',
    );
  }
  return folders;
}

/**
 * Packs each named package with `npm pack` into `dest`, as the registry would serve it. The root
 * package's `prepare` builds `lib/` first; a workspace must be built already (`npm run build`).
 *
 * @param run runs a command and resolves to its exit code and output
 */
export async function packLocalPackages(
  names: readonly string[],
  dest: string,
  run: (cmd: string, args: string[], cwd: string) => Promise<{ code: number | string; output: string }>,
): Promise<PackedPackage[]> {
  const packed: PackedPackage[] = [];
  for (const [name, dir] of packageFolders(names)) {
    const main = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string }).main;
    if (main && dir !== platformCheckout() && !existsSync(join(dir, main))) {
      throw new ValidationError(
        `${name} is not built (${join(dir, main)} is missing); run npm run build in ${platformCheckout()} first`,
      );
    }
    const r = await run('npm', ['pack', '--json', '--pack-destination', dest], dir);
    const json = r.output.indexOf('[');
    if (r.code !== 0 || json === -1) {
      throw new ValidationError(`npm pack of ${name} failed in ${dir}:\n${r.output.trim()}`);
    }
    const [info] = JSON.parse(r.output.slice(json, r.output.lastIndexOf(']') + 1)) as { filename: string }[];
    packed.push({ name, tarball: join(dest, info!.filename) });
  }
  return packed;
}

/**
 * The generated package.json with each packed package as a `file:` dependency on its tarball in
 * {@link LOCAL_PACKAGES_DIR}, wherever it was listed (dependencies or devDependencies).
 */
export function pointAtTarballs(packageJson: string, packed: readonly PackedPackage[]): string {
  const pkg = JSON.parse(packageJson) as Record<string, unknown>;
  for (const section of ['dependencies', 'devDependencies'] as const) {
    const deps = pkg[section] as Record<string, string> | undefined;
    for (const p of packed) {
      if (deps?.[p.name] !== undefined) deps[p.name] = `file:${LOCAL_PACKAGES_DIR}/${basename(p.tarball)}`;
    }
  }
  return JSON.stringify(pkg, null, 2) + '\n';
}

function basename(path: string): string {
  return path.split(/[\\/]/).at(-1)!;
}
