import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkPolicies, validateSchemas } from '../../charts/validation/index.js';
import type { KubeObject } from '../../charts/apply-order.js';
import { memoryIo } from '../../cli/cli-io.js';
import { newServiceCommand, type NewServiceFlags } from '../../cli/new-service.js';
import { packLocalPackages, type PackedPackage } from '../../templates/local-packages.js';

// The one slow test of the scaffolder: `aio new service --local`, with its real npm install of the
// generated repo (10 to 20 s on 2 cores with a warm npm cache). Everything else is in memory.
const work = mkdtempSync(join(tmpdir(), 'aio-e2e-')); // outside this repo: no workspace, no hoisting
// Delete the two installs in the background rather than hold up the suite.
afterAll(() => spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref());

/** Runs a command for `packLocalPackages`, as `aio new service --local` does. */
const run = async (cmd: string, args: string[], cwd: string) => {
  const r = await execa(cmd, args, { cwd, all: true, reject: false });
  return { code: r.exitCode ?? 1, output: r.all ?? '' };
};

/**
 * Generates a service with `aio new service --local` (the platform checkout's packages, packed,
 * installed by aio itself), then runs the repo's own test, build and synth.
 *
 * @param packed packages packed already; without it, aio packs them itself
 */
async function generateAndCheck(
  name: string,
  flags: Pick<NewServiceFlags, 'database' | 'cache' | 'route' | 'calls'>,
  packed?: readonly PackedPackage[],
): Promise<string> {
  const io = memoryIo(work);
  const code = await newServiceCommand(
    io,
    name,
    { owner: 'team-growth', install: true, git: true, yes: true, local: true, ...flags },
    { packed },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${io.stderr.join('\n')}`);
  });
  expect(code).toBe(0);
  const repo = join(work, name);

  // The repo installs the tarballs it carries, and still names the registry for @aio in .npmrc.
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  expect(pkg.dependencies!['@aio/kit']).toMatch(/^file:\.aio\/packages\/aio-kit-\d+\.\d+\.\d+\.tgz$/);
  expect(pkg.devDependencies!['@aio/service-chart']).toMatch(/^file:\.aio\/packages\/aio-service-chart-/);
  expect(readFileSync(join(repo, '.npmrc'), 'utf8')).toMatch(
    /^@aio:registry=https:\/\/allinone-000000000000\.d\.codeartifact\./m,
  );

  const sh = (cmd: string, args: string[]) =>
    execa(cmd, args, {
      cwd: repo,
      all: true,
      reject: false,
      env: { IMAGE_TAG: '1.2.3', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
  const expectOk = async (cmd: string, args: string[]) => {
    const r = await sh(cmd, args);
    expect({
      command: `${cmd} ${args.join(' ')}`,
      exitCode: r.exitCode,
      output: r.exitCode ? r.all : '',
    }).toEqual({
      command: `${cmd} ${args.join(' ')}`,
      exitCode: 0,
      output: '',
    });
    return r.all ?? '';
  };

  // A light repo: none of the platform's AWS side is installed (issue 20 item 2).
  const installed = (await sh('npm', ['ls', '--all', '--parseable'])).stdout;
  expect(
    installed
      .split('\n')
      .filter((p) => /node_modules\/(aws-cdk-lib|aws-cdk|@aws-cdk\/[^/]+|@pulumi\/[^/]+|cdk-nag)$/.test(p)),
  ).toEqual([]);
  expect(installed).toMatch(/node_modules\/cdk8s-plus-28$/m);
  expect(await expectOk('npm', ['test'])).toMatch(/Tests {2}\d+ passed/);
  await expectOk('npm', ['run', 'build']);
  await expectOk('npm', ['run', 'synth']);
  // The installed @aio/service-chart ships the template and the `aio-service` bin: the repo is up to date.
  expect(await expectOk('npx', ['aio-service', 'update', '--check'])).toContain(
    'managed files are up to date',
  );
  return repo;
}

/** The objects of the repo's synthesized manifest, checked against the schemas and the pod policies. */
async function manifestObjects(repo: string, name: string): Promise<KubeObject[]> {
  const manifests = readdirSync(join(repo, 'manifests'));
  expect(manifests).toEqual([`${name}.k8s.yaml`]);
  const objects = parseAllDocuments(readFileSync(join(repo, 'manifests', manifests[0]!), 'utf8')).map(
    (d) => d.toJS() as KubeObject,
  );
  expect(checkPolicies(objects)).toEqual([]);
  expect(await validateSchemas(objects)).toEqual([]);
  return objects;
}

describe('aio new service, end to end', () => {
  let packed: PackedPackage[];
  beforeAll(async () => {
    // Packs what the root's `npm run build` built: packages/service-chart/lib and services/kit/dist.
    packed = await packLocalPackages(['@aio/kit', '@aio/service-chart'], work, run);
    expect(packed.map((p) => p.name).sort()).toEqual(['@aio/kit', '@aio/service-chart']);
  }, 300_000);

  test('generates a repo whose own install, test, build and synth pass against the packed @aio packages', async () => {
    const repo = await generateAndCheck(
      'review-digest',
      { database: 'postgres', cache: 'redis', route: ['/api/review-digests'], calls: ['review'] },
      packed,
    );
    const objects = await manifestObjects(repo, 'review-digest');
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      metadata: { namespace: string };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(deployment.metadata.namespace).toBe('review-digest');
    expect(deployment.spec.template.spec.containers[0]!.image).toBe(
      '000000000000.dkr.ecr.ap-northeast-2.amazonaws.com/allinone/review-digest:1.2.3',
    );
  }, 600_000);

  test('the variant without a database or cache passes the same checks, with no DATABASE_URL anywhere (aio packs for itself)', async () => {
    const repo = await generateAndCheck('price-quote', {
      database: 'none',
      cache: 'none',
      route: [],
      calls: [],
    });
    const objects = await manifestObjects(repo, 'price-quote');
    expect(JSON.stringify(objects)).not.toContain('DATABASE_URL');
  }, 600_000);
});
