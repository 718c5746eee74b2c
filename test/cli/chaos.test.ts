import { FaultProxy } from '@aio/stack';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { validateSchemas } from '../../charts/validation/schema-gate.js';
import type { KubeObject } from '../../charts/apply-order.js';
import { memoryIo } from '../../cli/cli-io.js';
import { devStateFile } from '../../cli/dev-state.js';
import { runCli } from '../../cli/program.js';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'aio-chaos-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function aio(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo(ROOT, env);
  const code = await runCli(['node', 'aio', 'chaos', ...args, '-f', PLATFORM_FIXTURE_FILE], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

const virtualService = (stdout: string) =>
  parse(stdout) as KubeObject & {
    metadata: { name: string; namespace: string; annotations: Record<string, string> };
    spec: { hosts: string[]; http: Record<string, unknown>[] };
  };

describe('aio chaos (cluster)', () => {
  test('--abort emits review’s VirtualService with an abort fault that passes the schema gate', async () => {
    const r = await aio(['review', '--abort', '50%']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# aio chaos review: abort 50 % with 503 in dev\./);
    const vs = virtualService(r.stdout);
    expect(vs).toMatchObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: {
        name: 'review',
        namespace: 'review',
        annotations: { 'aio.dev/chaos': 'abort 50 % with 503' },
      },
      spec: { hosts: ['review.review.svc.cluster.local'] },
    });
    expect(vs.spec.http).toEqual([
      {
        route: [{ destination: { host: 'review.review.svc.cluster.local', port: { number: 80 } } }],
        // Istio disables a faulted route's timeout and retries: none is written
        fault: { abort: { httpStatus: 503, percentage: { value: 50 } } },
      },
    ]);
    expect(await validateSchemas([vs])).toEqual([]);
  });

  test('--delay with --percent, written to a file with -o', async () => {
    const out = join(work, 'delay.yaml');
    const r = await aio(['catalog', '--delay', '2s', '--percent', '25', '--env', 'dev', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`chaos: wrote ${out} (catalog, delay 2000 ms on 25 %, environment dev)`);
    expect(virtualService(readFileSync(out, 'utf8')).spec.http[0]!.fault).toEqual({
      delay: { fixedDelay: '2000ms', percentage: { value: 25 } },
    });
  });

  test('--blackhole is a delay longer than any caller waits, on every request', async () => {
    const r = await aio(['review', '--blackhole']);
    expect(r.code).toBe(0);
    expect(virtualService(r.stdout).spec.http[0]!.fault).toEqual({
      delay: { fixedDelay: '3600s', percentage: { value: 100 } },
    });
  });

  test.each([
    [['review', '--blackhole', '--env', 'prod'], /--env: 'prod' is a production environment.*--allow-prod/],
    [['review'], /give exactly one fault: --abort <percent>, --delay <duration> or --blackhole/],
    [['review', '--abort', '50%', '--blackhole'], /give exactly one fault.*\(got several\)/],
    [
      ['review', '--abort', '150%'],
      /--abort: must be a percentage above 0 and at most 100 such as '50%', got '150%'/,
    ],
    [
      ['review', '--abort', '5%', '--status', '99'],
      /--status: must be an HTTP status from 200 to 599, got '99'/,
    ],
    [['review', '--delay', 'soon'], /--delay: must be a duration such as '500ms', '2s' or '1m', got 'soon'/],
    [['reviw', '--abort', '5%'], /<service>: 'reviw' is not a service of .*; did you mean 'review'\?/],
    [['review', '--abort', '5%', '--env', 'qa'], /--env: 'qa' is not an environment; known are dev, prod/],
    [['review', '--clear'], /--clear: only with --local/],
  ])('rejects %j as a usage error (exit 2)', async (args, message) => {
    const r = await aio(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('--allow-prod emits for production', async () => {
    const r = await aio(['order', '--abort', '10%', '--status', '500', '--env', 'prod', '--allow-prod']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('in prod.');
    expect(virtualService(r.stdout).metadata.namespace).toBe('order');
  });

  test('--help explains the faults and the local mode', async () => {
    const io = memoryIo(ROOT);
    expect(await runCli(['node', 'aio', 'chaos', '--help'], io)).toBe(0);
    const help = io.stdout.join('\n');
    for (const flag of [
      '--abort <percent>',
      '--delay <duration>',
      '--blackhole',
      '--env <env>',
      '--allow-prod',
      '--local',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('aio chaos review --local --blackhole');
  });
});

describe('aio chaos --local (the running aio dev stack’s fault proxy)', () => {
  let service: http.Server;
  let proxy: FaultProxy;
  let env: Record<string, string>;
  beforeAll(async () => {
    service = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const port = (service.address() as { port: number }).port;
    proxy = await FaultProxy.start({ port: 0, target: `http://127.0.0.1:${port}` });
    env = { AIO_DEV_STATE_DIR: join(work, 'state') };
    // what aio dev --faults review --base-port 18080 writes once the stack is up
    const file = devStateFile('18080', env);
    rmSync(join(file, '..'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(file, '..'), { recursive: true }));
    writeFileSync(file, JSON.stringify({ pid: process.pid, faults: { review: proxy.url } }));
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => service.close(r));
  });

  const status = async () => {
    const res = await fetch(`${proxy.url}/ratings/X`);
    await res.text();
    return res.status;
  };
  const local = (...args: string[]) => aio(['review', '--local', '--base-port', '18080', ...args], env);

  test('sets an abort, then clears it, on the proxy in front of review', async () => {
    expect(await status()).toBe(200);
    const r = await local('--abort', '100%', '--status', '500');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`review: abort 100 % with 500 (aio dev on base port 18080, proxy ${proxy.url})`);
    expect(proxy.fault).toEqual({ kind: 'abort', percent: 100, status: 500 });
    expect(await status()).toBe(500);
    expect((await local('--clear')).code).toBe(0);
    expect(proxy.fault).toBeUndefined();
    expect(await status()).toBe(200);
  });

  test('a delay holds requests on the proxy', async () => {
    expect((await local('--delay', '300ms')).code).toBe(0);
    const started = Date.now();
    expect(await status()).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await local('--clear');
  });

  test('a blackhole never answers until cleared', async () => {
    expect((await local('--blackhole')).code).toBe(0);
    const answer = await fetch(`${proxy.url}/ratings/X`, { signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    expect(answer).toBe('TimeoutError');
    await local('--clear');
    expect(await status()).toBe(200);
  });

  test('fails (exit 1) naming the fix when the service has no proxy or no aio dev runs there', async () => {
    const r = await aio(['catalog', '--local', '--base-port', '18080', '--abort', '5%'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "'catalog' has no fault proxy in the aio dev on base port 18080 (proxied: review); restart it with aio dev --faults catalog",
    );
    const none = await aio(['review', '--local', '--base-port', '18099', '--abort', '5%'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /no aio dev is running on base port 18099 .*start it with aio dev --faults <service>/,
    );
  });
});
