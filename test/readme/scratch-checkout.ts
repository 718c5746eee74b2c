import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** What the README's commands edit in the platform checkout; the copy takes them as committed. */
const README_EDITED = ['platform.yaml', 'dist'];

/** A throw-away copy of a built checkout, for commands that edit platform.yaml or write files. */
export interface ScratchCheckout {
  /** The copy's root: `<tmp>/aio-platform`, so `--out ../x` lands beside it in the same tmp folder. */
  readonly dir: string;
  /** Puts every tracked file back and removes what the last commands created, beside it too. */
  reset(): void;
  /** Removes the whole copy. */
  remove(): void;
}

/**
 * Copies the checkout at `root` as it is on disk (tracked and untracked, not ignored, files;
 * platform.yaml and dist/ as committed, see {@link README_EDITED}), with
 * its built outputs (`lib/`, `services/*\/dist`, `packages/*\/lib` and the template copy), so
 * builds there are incremental. node_modules holds links to `root`'s packages, except the `@aio`
 * workspaces and the bins, which are relinked as they are in `root` (relative), so `aio` and the
 * workspaces resolve inside the copy. The copy is a git repo of its own, for `reset()`.
 */
export function scratchCheckout(root: string): ScratchCheckout {
  const base = mkdtempSync(join(tmpdir(), 'aio-readme-'));
  const dir = join(base, 'aio-platform');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=aio-test', '-c', 'user.email=aio-test@example.invalid', ...args], {
      cwd,
      encoding: 'utf8',
    });

  const files = git(root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard')
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file), { preserveTimestamps: true });
  }
  // The README's own commands edit platform.yaml (aio route, aio new service) and dist/ (aio synth):
  // in a checkout where someone already ran them, the copy starts from the committed platform, so
  // running the README again (a second `aio new service review-digest`) is not refused.
  for (const file of git(root, 'diff', '--name-only', '-z', 'HEAD', '--', ...README_EDITED).split('\0')) {
    if (!file) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), execFileSync('git', ['show', `HEAD:${file}`], { cwd: root }));
  }
  const built = ['lib'];
  for (const parent of ['services', 'packages']) {
    for (const ws of existsSync(join(root, parent)) ? readdirSync(join(root, parent)) : []) {
      built.push(`${parent}/${ws}/dist`, `${parent}/${ws}/lib`, `${parent}/${ws}/templates`);
    }
  }
  for (const out of built.filter((b) => existsSync(join(root, b)))) {
    cpSync(join(root, out), join(dir, out), { recursive: true, preserveTimestamps: true });
  }

  linkNodeModules(join(root, 'node_modules'), join(dir, 'node_modules'));
  for (const parent of ['services', 'packages']) {
    for (const ws of existsSync(join(root, parent)) ? readdirSync(join(root, parent)) : []) {
      const nested = join(root, parent, ws, 'node_modules');
      if (existsSync(nested)) symlinkSync(nested, join(dir, parent, ws, 'node_modules'));
    }
  }

  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'scratch copy');
  return {
    dir,
    reset() {
      git(dir, 'checkout', '-q', '--', '.');
      git(dir, 'clean', '-fdq');
      for (const sibling of readdirSync(base)) {
        if (sibling !== 'aio-platform') rmSync(join(base, sibling), { recursive: true, force: true });
      }
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** node_modules of links: packages to `from`'s, `.bin` and `@aio` entries relinked as they are. */
function linkNodeModules(from: string, to: string): void {
  mkdirSync(to);
  for (const entry of readdirSync(from)) {
    if (entry === '.bin' || entry === '@aio') {
      mkdirSync(join(to, entry));
      for (const link of readdirSync(join(from, entry))) {
        symlinkSync(readlinkSync(join(from, entry, link)), join(to, entry, link));
      }
    } else {
      symlinkSync(join(from, entry), join(to, entry));
    }
  }
}
