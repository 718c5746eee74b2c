import { freePort } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { gatewayObjects, upstreamsFromEnv } from '../../cli/gateway-process.js';
import { startLocalGateway, type LocalGateway } from '../../cli/local-gateway.js';
import type { ShadowRecord, ShadowReport } from '../../cli/shadow-diff.js';
import { shadowReportCommand } from '../../cli/shadow.js';
import { loadPlatform, PlatformModel, type PlatformSpec } from '../../model/index.js';

// Shadow compare through real processes started by the launcher (the monolith, order, inventory and
// the shadow-compare entry) and nginx rendered from the fixture, where both
// routes are at weight 0 (all traffic on the monolith) and shadowed at 100 %.
const FIXTURE = fileURLToPath(new URL('../fixtures/shadow/platform.yaml', import.meta.url));
const model = loadPlatform(FIXTURE);
const work = mkdtempSync(join(tmpdir(), 'aio-shadow-'));
const LOG = join(work, 'shadow.jsonl');

let stack: Stack;
let env: Record<string, string>;
let gateway: LocalGateway;

const objectsAt = (shadow: number) => {
  const spec = structuredClone(model.spec) as PlatformSpec;
  for (const svc of Object.values(spec.services)) for (const r of svc.routes) r.shadow = shadow;
  return gatewayObjects(new PlatformModel(spec, model.file));
};

beforeAll(async () => {
  // the launcher's own entries: the comparer (and what it calls) on their own databases
  stack = await startStack({
    processes: ['monolith', 'order', 'inventory', 'shadow-compare'],
    scope: StackScope.test('shadow'),
    env: {
      inventory: { SWEEP_INTERVAL_MS: '0' },
      order: { PAYMENT_URL: 'http://127.0.0.1:9' },
      'shadow-compare': { AIO_PLATFORM_FILE: FIXTURE, AIO_SHADOW_LOG: LOG },
    },
  });
  const url = (name: string) => stack.process(name).url;
  env = {
    MONOLITH_URL: url('monolith'),
    ORDER_URL: url('order'),
    INVENTORY_URL: url('inventory'),
    SHADOW_COMPARE_URL: url('shadow-compare'),
  };
  gateway = await startLocalGateway({
    objects: gatewayObjects(model),
    upstreams: upstreamsFromEnv(model, env),
    port: await freePort(),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A request signed in as `customer` with a token of the stack's issuer (the comparer forwards it). */
async function call(base: string, method: string, path: string, body?: unknown, customer = 'c-shadow') {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${await stack.tokens.for(customer)}`,
    ...(payload ? { 'content-type': 'application/json' } : {}),
  };
  return new Promise<{ status: number; servedBy?: string; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = http.request(`${base}${path}`, { method, headers, agent: false }, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () =>
          resolve({
            status: r.statusCode ?? 0,
            servedBy: r.headers['x-served-by'] as string | undefined,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          }),
        );
      });
      req.on('error', reject);
      req.end(payload);
    },
  );
}

const records = (): ShadowRecord[] =>
  existsSync(LOG)
    ? readFileSync(LOG, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ShadowRecord)
    : [];

/** Waits until the comparer has recorded a comparison of `uri` (mirrors are fire and forget). */
async function recorded(uri: string): Promise<ShadowRecord> {
  for (let i = 0; i < 400; i++) {
    const hit = records().find((r) => r.uri === uri);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no comparison of ${uri} recorded in ${LOG}`);
}

describe('shadow compare through the local gateway (nginx mirror → comparer)', () => {
  test('mirrored GETs are compared: a differing field is reported with a sample, a noisy one is not', async () => {
    expect((await call(env.MONOLITH_URL!, 'PUT', '/api/stock/SKU-SH', { available: 5 })).status).toBe(200);
    expect((await call(env.INVENTORY_URL!, 'PUT', '/stock/SKU-SH', { available: 7 })).status).toBe(200);
    for (const q of ['', '?n=1', '?n=2']) {
      const a = await call(gateway.url, 'GET', `/api/stock/SKU-SH${q}`);
      expect(a.servedBy).toBe('monolith');
      expect(a.body.available).toBe(5);
    }
    const r = await recorded('/api/stock/SKU-SH?n=2');
    expect(r).toMatchObject({ service: 'inventory', route: '/api/stock', method: 'GET' });
    const fields = r.mismatches.map((m) => m.field);
    expect(fields).toContain('available');
    expect(fields).toContain('sold'); // only the service answers it, and it is not declared noisy
    expect(fields).not.toContain('reserved'); // shadowIgnore: [reserved]

    const io = memoryIo();
    expect(await shadowReportCommand(io, { log: LOG, json: true, samples: '2' })).toBe(0);
    const report = JSON.parse(io.stdout.join('\n')) as ShadowReport;
    const available = report.fields.find((f) => f.route === '/api/stock' && f.field === 'available');
    expect(available?.count).toBeGreaterThanOrEqual(3);
    expect(available?.samples).toHaveLength(2);
    expect(available?.samples[0]).toMatchObject({ monolith: 5, service: 7 });
    expect(report.fields.some((f) => f.field === 'reserved')).toBe(false);

    const text = memoryIo();
    expect(await shadowReportCommand(text, { log: LOG, samples: '1' })).toBe(0);
    expect(text.stdout.join('\n')).toMatch(
      /inventory \/api\/stock {2}available: \d+ mismatches\n {4}\/api\/stock\/SKU-SH\S* {2}monolith 5 {2}service 7/,
    );
  });

  test('a POST is never mirrored: the service creates nothing and nothing is compared', async () => {
    const customerId = `c-shadow-${Date.now()}`;
    const created = await call(
      gateway.url,
      'POST',
      '/api/orders',
      {
        customerId,
        items: [{ sku: 'SKU-SH', quantity: 1, unitPrice: 5 }],
        currency: 'EUR',
        paymentToken: 'tok_visa',
      },
      customerId,
    );
    expect(created.servedBy).toBe('monolith');
    expect(created.status).toBeLessThan(300);
    // a GET after it is mirrored: once it is compared, the POST before it was handled by nginx
    const list = `/api/orders?customerId=${customerId}`;
    expect((await call(gateway.url, 'GET', list, undefined, customerId)).servedBy).toBe('monolith');
    const r = await recorded(list);
    expect(r.service).toBe('order');
    expect(records().every((x) => x.method === 'GET' || x.method === 'HEAD')).toBe(true);
    const onService = await call(
      env.ORDER_URL!,
      'GET',
      `/orders?customerId=${customerId}`,
      undefined,
      customerId,
    );
    expect(onService.status).toBe(200);
    expect(onService.body.orders).toEqual([]);
    // the monolith has the order, the service does not: the list differs by length, ids are noisy
    expect(r.mismatches.map((m) => m.field)).toContain('orders[].length');
  });

  test('at shadow 0 nothing is mirrored', async () => {
    await gateway.reload(objectsAt(0));
    expect(readFileSync(join(gateway.dir, 'nginx.conf'), 'utf8')).not.toMatch(/\bmirror\b/);
    const before = records().length;
    for (let i = 0; i < 5; i++)
      expect((await call(gateway.url, 'GET', `/api/stock/SKU-SH?z=${i}`)).status).toBe(200);
    // a direct comparer request is recorded, and none of the gateway's are before it
    await call(env.SHADOW_COMPARE_URL!, 'GET', '/api/stock/SKU-SH?sentinel=1');
    await recorded('/api/stock/SKU-SH?sentinel=1');
    const after = records().slice(before);
    expect(after.map((r) => r.uri)).toEqual(['/api/stock/SKU-SH?sentinel=1']);
  });
});
