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
  /** CPU seconds (user + system) of this process: stable when other work shares the machine. */
  cpu: number;
  stacks: number;
  resources: number;
  findings: number;
}

const rows: Row[] = [];
const out = mkdtempSync(join(tmpdir(), 'aio-bench-synth-'));
try {
  // Warm-up: module loading, JIT and the CloudFormation validator's start-up are one-off costs.
  const warm = platformOf(3);
  for (const env of warm.environments) {
    await cloudFormationStep.run({
      model: warm,
      env,
      envDir: join(out, 'warm-up', env.name),
      progress: () => undefined,
    });
  }
  rmSync(join(out, 'warm-up'), { recursive: true, force: true });
  for (const n of SIZES) {
    const model = platformOf(n);
    for (const env of model.environments) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const result = await cloudFormationStep.run({
        model,
        env,
        envDir: join(out, `${n}`, env.name),
        progress: () => undefined,
      });
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpuStarted);
      const cpu = (used.user + used.system) / 1e6;
      rows.push({
        services: n,
        env: env.name,
        seconds,
        cpu,
        stacks: result.stacks ?? 0,
        resources: result.resources ?? 0,
        findings: result.findings.filter((f) => f.level === 'error').length,
      });
      const r = rows.at(-1)!;
      console.log(
        `${String(n).padStart(4)} services  ${env.name.padEnd(5)} ${seconds.toFixed(1).padStart(6)} s wall ` +
          `${cpu.toFixed(1).padStart(6)} s cpu  ` +
          `${r.stacks} stacks  ${r.resources} resources  ${r.findings} gate errors`,
      );
      rmSync(join(out, `${n}`, env.name), { recursive: true, force: true });
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

// Growth: time against service count, from the smallest platform to each larger one. Linear cost
// would give a time ratio equal to the service ratio; a fixed cost (cluster, validator start-up)
// makes it smaller.
const smallest = Math.min(...SIZES);
for (const env of ['dev', 'prod']) {
  const base = rows.find((r) => r.services === smallest && r.env === env)!;
  for (const r of rows.filter((x) => x.env === env && x.services > smallest)) {
    const perService = (r.cpu - base.cpu) / (r.services - base.services);
    console.log(
      `${env}: ${r.services}/${smallest} services (x${(r.services / smallest).toFixed(1)}) -> ` +
        `wall x${(r.seconds / base.seconds).toFixed(2)}, cpu x${(r.cpu / base.cpu).toFixed(2)}, ` +
        `${(perService * 1000).toFixed(0)} ms cpu per added service`,
    );
  }
}
