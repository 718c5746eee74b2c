/**
 * `npm run bench:synth`: how long the CloudFormation step of `aio synth` takes for platforms of
 * 3, 30 and 100 services, per environment, and how the time grows with the service count.
 *
 * Each run synthesizes in-process with both gates (cdk-nag, CloudFormation validation), exactly as
 * `aio synth` does, into a temporary folder that is removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudFormationStep } from '../constructs/synth-step.js';
import { PlatformModel, platformSchema, type PlatformInput } from '../model/index.js';

const SIZES = (process.env.BENCH_SIZES ?? '3,30,100').split(',').map(Number);

/** A platform of `n` services: two in three have Postgres, one in three has Redis. */
function platformOf(n: number): PlatformModel {
  const services: PlatformInput['services'] = {};
  for (let i = 0; i < n; i++) {
    services[`svc-${String(i).padStart(3, '0')}`] = {
      owner: `team-${i % 5}`,
      database: i % 3 === 2 ? 'none' : 'postgres',
      cache: i % 3 === 0 ? 'redis' : 'none',
      routes: [{ path: `/api/svc-${i}`, weight: 100 }],
    };
  }
  const input: PlatformInput = {
    platform: 'bench',
    environments: {
      dev: {
        account: '111111111111',
        region: 'ap-northeast-2',
        size: 'small',
        adminRoleArns: ['arn:aws:iam::111111111111:role/admin'],
      },
      prod: {
        account: '222222222222',
        region: 'ap-northeast-2',
        size: 'ha',
        adminRoleArns: ['arn:aws:iam::222222222222:role/admin'],
      },
    },
    legacy: { monolith: { host: 'monolith.internal.example', port: 8080 } },
    gateway: { kind: 'kong', hosts: ['shop.example'] },
    tracing: { backend: 'jaeger', namespace: 'observability' },
    gitops: { repoUrl: 'https://github.com/example/platform.git' },
    services,
  };
  return new PlatformModel(platformSchema.parse(input), 'bench');
}

interface Row {
  services: number;
  env: string;
  seconds: number;
  stacks: number;
  resources: number;
  findings: number;
}

const rows: Row[] = [];
const out = mkdtempSync(join(tmpdir(), 'aio-bench-synth-'));
try {
  // Warm-up: module loading and the CloudFormation validator's first use are one-off costs.
  const warm = platformOf(3);
  await cloudFormationStep.run({
    model: warm,
    env: warm.environment('dev'),
    envDir: join(out, 'warm-up'),
    progress: () => undefined,
  });
  for (const n of SIZES) {
    const model = platformOf(n);
    for (const env of model.environments) {
      const started = performance.now();
      const result = await cloudFormationStep.run({
        model,
        env,
        envDir: join(out, `${n}`, env.name),
        progress: () => undefined,
      });
      const seconds = (performance.now() - started) / 1000;
      rows.push({
        services: n,
        env: env.name,
        seconds,
        stacks: result.stacks ?? 0,
        resources: result.resources ?? 0,
        findings: result.findings.filter((f) => f.level === 'error').length,
      });
      const r = rows.at(-1)!;
      console.log(
        `${String(n).padStart(4)} services  ${env.name.padEnd(5)} ${seconds.toFixed(1).padStart(6)} s  ` +
          `${r.stacks} stacks  ${r.resources} resources  ${r.findings} gate errors`,
      );
      rmSync(join(out, `${n}`, env.name), { recursive: true, force: true });
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

// Growth: seconds per added service between the smallest and each larger platform, against the
// ratio a linear cost would give.
const smallest = Math.min(...SIZES);
for (const env of ['dev', 'prod']) {
  const base = rows.find((r) => r.services === smallest && r.env === env)!;
  for (const r of rows.filter((x) => x.env === env && x.services > smallest)) {
    const ratio = r.seconds / base.seconds;
    const perService = (r.seconds - base.seconds) / (r.services - base.services);
    console.log(
      `${env}: ${r.services}/${smallest} services -> time x${ratio.toFixed(2)} (services x${(r.services / smallest).toFixed(1)}), ` +
        `${(perService * 1000).toFixed(0)} ms per added service`,
    );
  }
}
