import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Testing } from 'cdk8s';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import { ServiceChart, type ServiceChartProps } from '../../charts/service-chart.js';
import { writeFileMap } from '../../templates/file-map.js';
import { renderService } from '../../templates/render-service.js';
import type * as ServiceChartPackage from '../../packages/service-chart/src/index.js';
import { FULL_ANSWERS } from '../templates/fixtures.js';

// The light package a service repo depends on instead of @aio/platform (issue 20 item 2). Its
// build gate (build.mjs) is checked on a fresh in-memory bundle; its behaviour on the built lib/.
const root = fileURLToPath(new URL('../../', import.meta.url));
const pkgDir = join(root, 'packages', 'service-chart');
const built = join(pkgDir, 'lib', 'index.js');
const bin = join(pkgDir, 'lib', 'bin', 'aio-service.js');
const work = mkdtempSync(join(tmpdir(), 'aio-service-chart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface BuildScript {
  bundleOptions(write: boolean): esbuild.BuildOptions;
  checkImports(metafile: esbuild.Metafile, manifest: object): string[];
  FORBIDDEN_PACKAGES: RegExp[];
}
const build = (await import(join(pkgDir, 'build.mjs'))) as BuildScript;
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

function requireBuilt(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
}

describe('@aio/service-chart bundle', () => {
  test('imports only the packages its package.json lists, none of the platform AWS side', async () => {
    const { metafile } = await esbuild.build(build.bundleOptions(false));
    expect(build.checkImports(metafile!, manifest)).toEqual([]);
    const inputs = Object.keys(metafile!.inputs);
    // Bundled from the platform's own sources, not a copy of them.
    expect(inputs).toEqual(
      expect.arrayContaining([
        '../../charts/service-chart.ts',
        '../../model/naming.ts',
        '../../cli/update.ts',
      ]),
    );
    expect(inputs.filter((i) => /^\.\.\/\.\.\/(constructs|synth|bin|charts\/validation)\//.test(i))).toEqual(
      [],
    );
    const externals = new Set(
      Object.values(metafile!.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path)),
    );
    expect([...externals].filter((p) => !p.startsWith('node:')).sort()).toEqual([
      'cdk8s',
      'cdk8s-plus-28',
      'commander',
      'constructs',
      'diff',
      'yaml',
    ]);
  });

  test('the gate rejects an AWS CDK import and a package missing from package.json', async () => {
    // The CDK app entry imports aws-cdk-lib: bundled with the same options, the gate must object.
    const { metafile } = await esbuild.build({
      ...build.bundleOptions(false),
      entryPoints: { app: join(root, 'bin', 'cdk-app.ts') },
    });
    const problems = build.checkImports(metafile!, manifest);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/imports 'aws-cdk-lib': @aio\/service-chart must not pull/),
      ]),
    );
    const unlisted = build.checkImports(
      {
        inputs: {
          'a.ts': { bytes: 1, imports: [{ path: 'left-pad/x', kind: 'import-statement', external: true }] },
        },
        outputs: {},
      },
      manifest,
    );
    expect(unlisted).toEqual([
      "a.ts imports 'left-pad/x', which packages/service-chart/package.json does not list; add 'left-pad' to its dependencies",
    ]);
  });

  test('installs no forbidden package: the dependency closure, from package-lock.json', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }
      >;
    };
    // Node's resolution over the lock's paths: a dependency of node_modules/a resolves to
    // node_modules/a/node_modules/b when that exists (bundled or nested), else up the tree.
    const resolve = (from: string, name: string): string => {
      for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
        const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
        if (lock.packages[candidate]) return candidate;
        if (!dir) throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
      }
    };
    const seen = new Set<string>();
    const names = new Set<string>();
    const queue = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].map(
      (name) => resolve('', name),
    );
    while (queue.length) {
      const path = queue.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      names.add(path.replace(/^.*node_modules\//, ''));
      const entry = lock.packages[path]!;
      for (const dep of [
        ...Object.keys(entry.dependencies ?? {}),
        ...Object.keys(entry.peerDependencies ?? {}),
      ]) {
        queue.push(resolve(path, dep));
      }
    }
    expect([...names].filter((p) => build.FORBIDDEN_PACKAGES.some((f) => f.test(p)))).toEqual([]);
    expect(names).toContain('cdk8s');
    expect(names).toContain('follow-redirects'); // bundled in cdk8s: nested paths are followed
  });
});

describe('@aio/service-chart, built', () => {
  const props: ServiceChartProps = {
    name: 'review-digest',
    image: '111111111111.dkr.ecr.ap-northeast-2.amazonaws.com/allinone/review-digest:1.2.3',
    owner: 'team-growth',
    database: true,
    databaseSecretName: 'allinone/dev/review-digest/database',
    calls: ['review'],
  };

  test('synthesizes exactly what the platform ServiceChart does', async () => {
    requireBuilt(built);
    const light = (await import(built)) as typeof ServiceChartPackage;
    const fromPackage = Testing.synth(new light.ServiceChart(Testing.app(), 'svc', props));
    const fromPlatform = Testing.synth(new ServiceChart(Testing.app(), 'svc', props));
    expect(fromPackage).toEqual(fromPlatform);
    expect(fromPackage.map((o: { kind: string }) => o.kind)).toContain('Deployment');
    expect(light.naming.namespace('review-digest')).toBe('review-digest');
    expect(() => new light.ServiceChart(new App(), 'bad', { ...props, image: 'x:latest' })).toThrow(
      light.ValidationError,
    );
  });

  const aioService = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  test('aio-service update checks a generated repo against the template it ships', async () => {
    requireBuilt(bin);
    const repo = join(work, 'review-digest');
    await writeFileMap(repo, renderService(FULL_ANSWERS));
    const upToDate = aioService('update', '--check', '--dir', repo);
    expect({ status: upToDate.status, stderr: upToDate.stderr }).toEqual({
      status: 0,
      stderr: expect.stringMatching(/^managed files are up to date \(service template \d+\.\d+\.\d+\)\n$/),
    });
    writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
    const drifted = aioService('update', '--check', '--dir', repo);
    expect(drifted.status).toBe(1);
    expect(drifted.stderr).toContain('1 managed file drifted');
    expect(drifted.stderr).toContain('run aio-service update --write');
    expect(aioService('update', '--write', '--dir', repo).status).toBe(0);
    expect(aioService('update', '--check', '--dir', repo).status).toBe(0);
  });

  test('aio-service has only update: other aio commands are usage errors (exit 2)', () => {
    requireBuilt(bin);
    const help = aioService('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Commands:\n\s+update \[options\]/);
    expect(help.stdout).not.toMatch(/synth|validate|route/);
    const synth = aioService('synth');
    expect({ status: synth.status, stderr: synth.stderr }).toEqual({
      status: 2,
      stderr: "error: unknown command 'synth'\n",
    });
    expect(aioService('--version').stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });
});
