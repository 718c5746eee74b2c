/**
 * `npm run bench:gateway`: latency added by the local gateway. The order service's
 * `GET /orders?customerId=` called directly, against `GET /api/orders?customerId=` through nginx
 * rendered from the synthesized gateway (weight 100, so every request is routed by cohort and
 * rewritten), each client alternating the two, in one run. Prints p50 and p99 of each side
 * and the difference. Target: at most 2 ms added at p99.
 *
 * Env: BENCH_REQUESTS per round and side (default 5000), BENCH_CONCURRENCY (default 50), BENCH_ROUNDS
 * (default 3; the median round is reported).
 */
import { freePort } from '@aio/kit/testing';
import { StackScope, startStack } from '@aio/stack';
import { Testing } from 'cdk8s';
import http from 'node:http';
import { join } from 'node:path';
import { GatewayChart, type KubeObject } from '../charts/index.js';
import { startLocalGateway } from '../cli/local-gateway.js';
import { loadPlatform, PlatformModel, type PlatformSpec } from '../model/index.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = process.cwd();

function objects(weight: number): KubeObject[] {
  const base = loadPlatform(join(ROOT, 'test/fixtures/strangler/platform.yaml'));
  const spec = structuredClone(base.spec) as PlatformSpec;
  for (const svc of Object.values(spec.services)) for (const r of svc.routes) r.weight = weight;
  const chart = new GatewayChart(
    Testing.app(),
    'gw',
    GatewayChart.propsFromModel(new PlatformModel(spec, base.file), 'dev'),
  );
  return Testing.synth(chart) as KubeObject[];
}

/**
 * Closed loop: CONCURRENCY clients, each alternating one direct and one gateway GET on kept-alive
 * connections, REQUESTS per side. Alternating puts both sides under the same machine load at the
 * same moment, which matters on a shared box. Latencies in ms, sorted.
 */
async function run(): Promise<{ direct: number[]; gateway: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  const direct: number[] = [];
  const through: number[] = [];
  let next = 0;
  const get = (url: string, into: number[]) =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      // a fixed customer cookie: the gateway side pays for the cohort lookup, not for minting one
      const headers = { cookie: 'aio_customer=bench-customer', authorization };
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
          into.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
        await get(`${order.url}/orders?customerId=bench`, direct);
        await get(`${gateway.url}/api/orders?customerId=bench`, through);
      }
    }),
  );
  agent.destroy();
  return { direct: direct.sort((a, b) => a - b), gateway: through.sort((a, b) => a - b) };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

// order's GET /orders calls neither inventory nor payment; the stack starts them as what order calls
const stack = await startStack({ processes: ['monolith', 'order'], scope: StackScope.test('bench_gw') });
const monolith = stack.process('monolith');
const order = stack.process('order');
// both sides check the customer's token: one, signed by the stack's issuer, for every request
const authorization = `Bearer ${await stack.tokens.for('bench')}`;
const gateway = await startLocalGateway({
  objects: objects(100),
  port: await freePort(),
  upstreams: {
    'legacy/monolith': monolith.url.replace('http://', ''),
    'order/order': order.url.replace('http://', ''),
  },
});
try {
  await run(); // warm both paths (JIT, pools, nginx upstream keepalive)
  const rounds: { direct: number[]; gateway: number[] }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const { direct, gateway: through } = await run();
    rounds.push({ direct, gateway: through });
    console.log(
      `round ${i + 1}: direct p50 ${pct(direct, 50).toFixed(2)} ms p99 ${pct(direct, 99).toFixed(2)} ms | gateway p50 ${pct(through, 50).toFixed(2)} ms p99 ${pct(through, 99).toFixed(2)} ms`,
    );
  }
  const added = rounds.map((r) => pct(r.gateway, 99) - pct(r.direct, 99));
  const median = [...rounds.keys()].sort((a, b) => added[a]! - added[b]!)[Math.floor(ROUNDS / 2)]!;
  const r = rounds[median]!;
  console.log(
    `\nmedian round (${REQUESTS} GETs per side, concurrency ${CONCURRENCY}): direct p50 ${pct(r.direct, 50).toFixed(2)} / p99 ${pct(r.direct, 99).toFixed(2)} ms; gateway p50 ${pct(r.gateway, 50).toFixed(2)} / p99 ${pct(r.gateway, 99).toFixed(2)} ms; added p50 ${(pct(r.gateway, 50) - pct(r.direct, 50)).toFixed(2)} ms, p99 ${added[median]!.toFixed(2)} ms (target <= 2 ms)`,
  );
} finally {
  await gateway.stop();
  await stack.stop();
}
