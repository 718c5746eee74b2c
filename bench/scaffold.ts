/**
 * Scaffolder benchmark (`npm run bench:scaffold`, after a build).
 *
 * 1. `aio new service --no-install` on the built CLI (a fresh Node process each run, git init and
 *    first commit included; and with --no-git): median and worst of N runs against the 1 s goal.
 * 2. The whole path a developer waits for: generate, `npm install` (the @aio packages from
 *    `npm pack` tarballs, third-party packages from the npm cache), then the repo's own `npm test`.
 *    Also the size of the generated repo's node_modules and a second, warm-cache install: the
 *    light-repo targets of issue 20 (at most 200 MB, at most 15 s).
 *
 * Prints figures; docs/benchmarks.md records them. No assertions: timing belongs here, not in tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url)); // lib/bench/ → repo root
const cli = join(root, 'lib', 'bin', 'aio.js');
const runs = Number(process.env.RUNS ?? 10);
const work = mkdtempSync(join(tmpdir(), 'aio-bench-scaffold-'));

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * CPU seconds (user + system) of the finished child processes so far: /proc/self/stat's cutime and
 * cstime. On the shared machine wall times swing with the load; the CPU a command needs does not.
 */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 is index 0: cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } });
}

function newService(name: string, extra: string[]): number {
  const args = [
    cli,
    'new',
    'service',
    name,
    '--owner',
    'team-growth',
    '--database',
    'postgres',
    '--cache',
    'redis',
  ];
  return timed(() =>
    run('node', [...args, '--route', `/api/${name}`, '--no-install', '--yes', ...extra], work),
  );
}

function summary(label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const worst = sorted.at(-1)!;
  console.log(
    `${label.padEnd(44)} median ${median.toFixed(0).padStart(5)} ms  worst ${worst.toFixed(0).padStart(5)} ms  ` +
      `(goal 1000 ms: ${(1000 / median).toFixed(1)}x headroom)`,
  );
}

// On the shared 2-core machine other suites run too: print the load so figures can be judged.
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`${cpus().length} cores, load average ${load()} (1/5/15 min)`);

try {
  newService('warmup', ['--no-git']);
  summary(
    `aio new service --no-install (${runs} runs)`,
    Array.from({ length: runs }, (_, i) => newService(`svc-git-${i}`, [])),
  );
  summary(
    `aio new service --no-install --no-git (${runs} runs)`,
    Array.from({ length: runs }, (_, i) => newService(`svc-nogit-${i}`, ['--no-git'])),
  );

  // INSTALL=0 measures only `aio new`.
  if (process.env.INSTALL !== '0') wholePath();
  console.log(`load average at the end ${load()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** `npm pack` of the package in `dir` into the work folder; returns the tarball path. */
function pack(dir: string): string {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: dir,
    encoding: 'utf8',
  });
  return join(work, (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0]!.filename);
}

/** Every `@aio/*` package of this checkout (the root and its workspaces): name → folder. */
function localPackages(): Map<string, string> {
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; workspaces?: string[] };
  const found = new Map<string, string>([[manifest(root).name, root]]);
  for (const pattern of manifest(root).workspaces ?? []) {
    const parent = join(root, pattern.replace(/\/\*$/, ''));
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const dir = join(parent, entry.name);
      if (entry.isDirectory() && existsSync(join(dir, 'package.json'))) found.set(manifest(dir).name, dir);
    }
  }
  return found;
}

/** Disk use of a folder in MB (1 MB = 2^20 bytes), as `du` counts it (blocks, hard links once). */
function megabytes(dir: string, apparent = false): number {
  const out = execFileSync('du', ['-s', '--block-size=1', ...(apparent ? ['--apparent-size'] : []), dir], {
    encoding: 'utf8',
  });
  return Number(out.split('\t')[0]) / 2 ** 20;
}

/** The largest top-level entries of node_modules (scopes counted as one), in MB. */
function largest(nodeModules: string, n: number): string {
  const entries = readdirSync(nodeModules).filter((e) => !e.startsWith('.'));
  return entries
    .map((e) => [e, megabytes(join(nodeModules, e))] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([e, mb]) => `${e} ${mb.toFixed(0)} MB`)
    .join(', ');
}

interface InstallFigures {
  /** node_modules on disk and apparent, MB. */
  readonly size: number;
  readonly apparent: number;
  /** Packages installed (`npm ls --all`). */
  readonly count: number;
  readonly largest: string;
  /** Wall ms of the first install, and wall ms and CPU s of the warm-cache one. */
  readonly first: number;
  readonly warm: number;
  readonly warmCpu: number;
}

/**
 * Installs `repo` twice from scratch (no node_modules, no lock file: a freshly generated repo has
 * none). The first install fills the npm cache with whatever it lacked; the second is the
 * warm-cache figure a developer sees on a machine that installed any service before.
 */
function measureInstall(repo: string): InstallFigures {
  const nodeModules = join(repo, 'node_modules');
  const clean = () => {
    rmSync(nodeModules, { recursive: true, force: true });
    rmSync(join(repo, 'package-lock.json'), { force: true });
  };
  const npmInstall = () => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], repo);
  clean();
  const first = timed(npmInstall);
  const size = megabytes(nodeModules);
  const apparent = megabytes(nodeModules, true);
  // `npm ls` exits 1 on any peer warning; its list is what counts here.
  const listed = spawnSync('npm', ['ls', '--all', '--parseable'], { cwd: repo, encoding: 'utf8' }).stdout;
  const count = new Set(listed.split('\n').filter(Boolean)).size - 1;
  const top = largest(nodeModules, 6);
  clean();
  const cpuBefore = childCpuSeconds();
  const warm = timed(npmInstall);
  return { size, apparent, count, largest: top, first, warm, warmCpu: childCpuSeconds() - cpuBefore };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function printInstall(label: string, f: InstallFigures, targets: boolean): void {
  const verdict = (ok: boolean, target: string) =>
    !targets ? '' : `; target ${target}: ${ok ? 'met' : 'NOT met'}`;
  console.log(
    `${label.padEnd(44)} node_modules ${f.size.toFixed(0)} MB on disk (${f.apparent.toFixed(0)} MB apparent), ` +
      `${f.count} packages${verdict(f.size <= 200, '200 MB')}`,
  );
  console.log(`${''.padEnd(44)}   largest: ${f.largest}`);
  console.log(
    `${''.padEnd(44)} npm install, warm cache ${seconds(f.warm)} wall, ${f.warmCpu.toFixed(1)} s CPU ` +
      `(first install ${seconds(f.first)})${verdict(f.warm <= 15_000, '15 s')}`,
  );
}

/**
 * Generate, install from tarballs (twice: size, then a warm-cache install), test, build and
 * synth, timing each phase. Targets (issue 20): node_modules at most 200 MB, a warm-cache install
 * at most 15 s. BASELINE=1 also installs the same repo the way template 1.1 did, with the whole
 * `@aio/platform` as the dev dependency, in the same run.
 */
function wholePath(): void {
  const packages = localPackages();
  const generate = newService('review-digest', ['--no-git']);
  const repo = join(work, 'review-digest');
  const pkgFile = join(repo, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, Record<string, string>>;
  // Stand-in for the company registry: each @aio/* dependency resolved to a tarball of this checkout.
  const tarballs: string[] = [];
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(pkg[field] ?? {})) {
      const dir = packages.get(name);
      if (!name.startsWith('@aio/')) continue;
      if (!dir) throw new Error(`the generated repo depends on ${name}, which this checkout does not hold`);
      pkg[field]![name] = `file:${pack(dir)}`;
      tarballs.push(name);
    }
  }
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
  console.log(`@aio packages from tarballs: ${tarballs.join(', ')}`);
  const light = measureInstall(repo);
  printInstall('generated repo', light, true);
  const test = timed(() => run('npm', ['test'], repo));
  const build = timed(() => run('npm', ['run', 'build'], repo));
  const synth = timed(() => run('npm', ['run', 'synth'], repo));
  console.log(
    `generate + install + test (postgres+redis)   ${seconds(generate + light.warm + test)} ` +
      `(generate ${seconds(generate)}, npm install ${seconds(light.warm)}, npm test ${seconds(test)}); ` +
      `then build ${seconds(build)}, synth ${seconds(synth)}`,
  );
  if (process.env.BASELINE === '1') {
    const devDependencies = { ...pkg.devDependencies! };
    delete devDependencies['@aio/service-chart'];
    devDependencies['@aio/platform'] = `file:${pack(root)}`;
    writeFileSync(pkgFile, JSON.stringify({ ...pkg, devDependencies }, null, 2));
    printInstall('baseline: @aio/platform instead (template 1.1)', measureInstall(repo), false);
  }
}
