/**
 * Scaffolder benchmark (`npm run bench:scaffold`, after a build).
 *
 * 1. `aio new service --no-install` on the built CLI (a fresh Node process each run, git init and
 *    first commit included; and with --no-git): median and worst of N runs against the 1 s goal.
 * 2. The whole path a developer waits for: generate, `npm install` (the @aio packages from
 *    `npm pack` tarballs, third-party packages from the npm cache), then the repo's own `npm test`.
 *
 * Prints figures; docs/benchmarks.md records them. No assertions: timing belongs here, not in tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Generate, install from tarballs, test (and then build and synth), timing each phase. */
function wholePath(): void {
  const pack = (dir: string): string => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: dir,
      encoding: 'utf8',
    });
    return join(work, (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0]!.filename);
  };
  const platformTgz = pack(root);
  const kitTgz = pack(join(root, 'services', 'kit'));
  const generate = newService('review-digest', ['--no-git']);
  const repo = join(work, 'review-digest');
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  pkg.dependencies!['@aio/kit'] = `file:${kitTgz}`;
  pkg.devDependencies!['@aio/platform'] = `file:${platformTgz}`;
  writeFileSync(join(repo, 'package.json'), JSON.stringify(pkg, null, 2));
  const install = timed(() => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], repo));
  const test = timed(() => run('npm', ['test'], repo));
  const build = timed(() => run('npm', ['run', 'build'], repo));
  const synth = timed(() => run('npm', ['run', 'synth'], repo));
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `generate + install + test (postgres+redis)   ${s(generate + install + test)} ` +
      `(generate ${s(generate)}, npm install ${s(install)}, npm test ${s(test)}); then build ${s(build)}, synth ${s(synth)}`,
  );
}
