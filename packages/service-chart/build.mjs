// Builds @aio/service-chart from the platform's own sources, without moving them:
//   lib/index.js, lib/bin/aio-service.js  esbuild bundles of src/ and every platform module they
//                                         import; third-party packages stay imports (external)
//   lib/types/, lib/index.d.ts            declarations, from tsc
//   templates/service/                    a copy of the service template, for `aio-service update`
// Then it checks the bundles' imports: every package imported must be listed in package.json,
// and none may be the platform's AWS side (aws-cdk-lib, @aws-cdk/*, @pulumi/*, cdk-nag). A
// service repo that installs this package installs only what package.json lists, so this check
// is what keeps service repos light. Run by the root `npm run build`; `node build.mjs` alone works.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Package names a service repo must never install through this package. */
export const FORBIDDEN_PACKAGES = [/^aws-cdk-lib$/, /^aws-cdk$/, /^@aws-cdk\//, /^@pulumi\//, /^cdk-nag$/];

/**
 * esbuild options of the package's bundles.
 * @param {boolean} write false: in memory, for tests
 * @returns {import('esbuild').BuildOptions}
 */
export function bundleOptions(write = true) {
  return {
    absWorkingDir: here,
    entryPoints: { index: 'src/index.ts', 'bin/aio-service': 'src/aio-service.ts' },
    outdir: 'lib',
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    metafile: true,
    write,
    logLevel: 'warning',
  };
}

/** The package an import specifier names: `cdk8s-plus-28/lib/x` → `cdk8s-plus-28`, `@a/b/c` → `@a/b`. */
export function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Problems with the bundles' imports: a package the manifest does not list, or a forbidden one.
 * @param {import('esbuild').Metafile} metafile
 * @param {{ dependencies?: Record<string, string>, peerDependencies?: Record<string, string> }} manifest
 * @returns {string[]} one line per problem; empty when the bundles are light
 */
export function checkImports(metafile, manifest) {
  const listed = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const problems = new Set();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    for (const { path, external } of imports) {
      if (!external || path.startsWith('node:') || builtinModules.includes(path)) continue;
      const pkg = packageOf(path);
      if (FORBIDDEN_PACKAGES.some((p) => p.test(pkg))) {
        problems.add(
          `${input} imports '${path}': @aio/service-chart must not pull the platform's AWS side into service repos; import only cdk8s-level modules from the charts it bundles`,
        );
      } else if (!listed.has(pkg)) {
        problems.add(
          `${input} imports '${path}', which packages/service-chart/package.json does not list; add '${pkg}' to its dependencies`,
        );
      }
    }
  }
  return [...problems];
}

async function main() {
  rmSync(join(here, 'lib'), { recursive: true, force: true });
  rmSync(join(here, 'templates'), { recursive: true, force: true });
  const result = await esbuild.build(bundleOptions(true));
  const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const problems = checkImports(result.metafile, manifest);
  if (problems.length) {
    for (const p of problems) console.error(`packages/service-chart: ${p}`);
    process.exit(1);
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
  writeFileSync(
    join(here, 'lib', 'index.d.ts'),
    "export * from './types/packages/service-chart/src/index.js';\n",
  );
  mkdirSync(join(here, 'templates'), { recursive: true });
  cpSync(join(root, 'templates', 'service'), join(here, 'templates', 'service'), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
