#!/usr/bin/env node
// npm run bench:cli — how fast `aio --help` and `aio validate` start, on the built CLI.
// Prints the median and p90 of N runs, and the ratio to a bare `node -e ''` start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const aio = fileURLToPath(new URL('../lib/bin/aio.js', import.meta.url));
const runs = Number(process.env.RUNS ?? 20);

function time(args) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(runs / 2)], p90: samples[Math.floor(runs * 0.9)] };
}

const bare = time(['-e', '']);
const rows = [
  ['node -e ""', bare],
  ['aio --help', time([aio, '--help'])],
  ['aio --version', time([aio, '--version'])],
  [
    'aio validate',
    time([aio, 'validate', '-f', fileURLToPath(new URL('../platform.yaml', import.meta.url))]),
  ],
];
console.log(`runs per command: ${runs}`);
for (const [name, t] of rows) {
  console.log(
    `${name.padEnd(16)} median ${t.median.toFixed(0).padStart(4)} ms  p90 ${t.p90.toFixed(0).padStart(4)} ms  ` +
      `(${(t.median / bare.median).toFixed(1)}x bare node)`,
  );
}
