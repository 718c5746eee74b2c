import {
  type Dirent,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { PlatformModel } from '../model/index.js';
import { platformWorkflows, type PlatformWorkflowsOptions } from './platform-workflows.js';
import { GENERATED_MARKER, renderWorkflow } from './workflow.js';

/** Where the platform repo's workflows live, relative to the repo root. */
export const WORKFLOWS_DIR = '.github/workflows';

/** How a folder on disk differs from what should be there. Paths are relative, `/`-separated. */
export interface TreeDrift {
  /** Expected but missing on disk. */
  readonly missing: readonly string[];
  /** On disk with different content. */
  readonly changed: readonly string[];
  /** On disk but not expected (for workflows: only files carrying the generated marker). */
  readonly extra: readonly string[];
}

/** True when nothing differs. */
export function isClean(drift: TreeDrift): boolean {
  return drift.missing.length + drift.changed.length + drift.extra.length === 0;
}

/** One line per differing file: `missing: x`, `changed: y`, `extra: z`. */
export function formatDrift(drift: TreeDrift): string[] {
  return [
    ...drift.missing.map((f) => `missing: ${f}`),
    ...drift.changed.map((f) => `changed: ${f}`),
    ...drift.extra.map((f) => `extra: ${f}`),
  ];
}

/** The rendered platform workflows: `.github/workflows/<name>.yml` → YAML text. */
export function renderPlatformWorkflows(
  model: PlatformModel,
  options: PlatformWorkflowsOptions = {},
): ReadonlyMap<string, string> {
  return new Map(
    Object.entries(platformWorkflows(model, options)).map(([file, wf]) => [
      `${WORKFLOWS_DIR}/${file}`,
      renderWorkflow(wf),
    ]),
  );
}

/**
 * Compares the rendered workflows with `root/.github/workflows`. Hand-written workflows (without
 * the generated marker) are left alone; a generated one that is no longer produced is `extra`.
 */
export function workflowDrift(root: string, files: ReadonlyMap<string, string>): TreeDrift {
  const onDisk = listFiles(join(root, WORKFLOWS_DIR)).map((f) => `${WORKFLOWS_DIR}/${f}`);
  const generatedOnDisk = onDisk.filter((f) =>
    readFileSync(join(root, f), 'utf8').startsWith(GENERATED_MARKER),
  );
  return {
    missing: [...files.keys()].filter((f) => !existsSync(join(root, f))).sort(),
    changed: [...files.entries()]
      .filter(([f, text]) => existsSync(join(root, f)) && readFileSync(join(root, f), 'utf8') !== text)
      .map(([f]) => f)
      .sort(),
    extra: generatedOnDisk.filter((f) => !files.has(f)).sort(),
  };
}

/** Writes the workflows and removes generated ones no longer produced; returns what it changed. */
export function writeWorkflows(root: string, files: ReadonlyMap<string, string>): TreeDrift {
  const drift = workflowDrift(root, files);
  for (const f of [...drift.missing, ...drift.changed]) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), files.get(f)!);
  }
  for (const f of drift.extra) rmSync(join(root, f));
  return drift;
}

/**
 * Files of a synth that `aio synth --check` does not compare. CDK's `*.metadata.json` and the
 * cdk-nag `validation-report.json` record construct stack traces with absolute paths of the
 * checkout that ran the synth, so they differ between a laptop and CI; nothing deploys them.
 */
export const DIST_CHECK_IGNORED: readonly RegExp[] = [/\.metadata\.json$/, /(^|\/)validation-report\.json$/];

/**
 * Compares two folders file by file: `expected` (a fresh synth) against `actual` (the committed
 * dist/). Files matching `ignore` are left out on both sides.
 */
export function treeDrift(expected: string, actual: string, ignore: readonly RegExp[] = []): TreeDrift {
  const keep = (f: string) => !ignore.some((re) => re.test(f));
  const want = new Set(listFiles(expected).filter(keep));
  const have = new Set(listFiles(actual).filter(keep));
  return {
    missing: [...want].filter((f) => !have.has(f)).sort(),
    changed: [...want]
      .filter((f) => have.has(f) && !readFileSync(join(expected, f)).equals(readFileSync(join(actual, f))))
      .sort(),
    extra: [...have].filter((f) => !want.has(f)).sort(),
  };
}

/** Every file under `dir`, relative and `/`-separated; empty when `dir` does not exist. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort();
}

/** The part of `dist/<env>/` that is committed and that Argo CD syncs. */
export const GITOPS_FOLDER = 'k8s';

/**
 * Compares a fresh synth (`freshRoot/<env>/k8s`) with the committed manifests
 * (`committedRoot/<env>/k8s`) for each environment. Paths in the result are relative to the output
 * root: `<env>/k8s/x.yaml`.
 *
 * This is what `aio synth --check` runs: with GitOps, Argo CD applies the committed manifests, so a
 * source change without a re-synth would silently not ship. The cloud assembly
 * (`<env>/cloudformation/`) is not compared: it is a build artifact of about 58 MB per environment
 * (mostly the kubectl layer), rebuilt by `cdk deploy`, and it is not committed.
 */
export function distDrift(freshRoot: string, committedRoot: string, envs: readonly string[]): TreeDrift {
  const parts = envs.map((env) => {
    const d = treeDrift(
      join(freshRoot, env, GITOPS_FOLDER),
      join(committedRoot, env, GITOPS_FOLDER),
      DIST_CHECK_IGNORED,
    );
    const prefix = (f: string) => `${env}/${GITOPS_FOLDER}/${f}`;
    return { missing: d.missing.map(prefix), changed: d.changed.map(prefix), extra: d.extra.map(prefix) };
  });
  return {
    missing: parts.flatMap((p) => p.missing),
    changed: parts.flatMap((p) => p.changed),
    extra: parts.flatMap((p) => p.extra),
  };
}
