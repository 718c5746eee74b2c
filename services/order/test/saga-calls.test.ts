import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { StepContext } from '@aio/kit';
import { CATALOG_CALLS } from '../src/catalog-prices.js';
import { PLACE_ORDER_CALLS, placeOrderSaga, type PlaceOrderInput } from '../src/order-saga.js';

/**
 * The mesh lets order call exactly the operations its contract declares (`x-aio-calls`). These tests
 * run every action and compensation of the saga against recording participants and check that the
 * requests it really sends are exactly those operations: none missing (a call the mesh would deny)
 * and none extra (a grant nobody uses).
 */

const contractFile = new URL('../openapi.json', import.meta.url);
const seen: { service: string; method: string; path: string }[] = [];
const servers: http.Server[] = [];

async function participant(service: string): Promise<string> {
  const server = http.createServer((req, res) => {
    seen.push({ service, method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `/reservations/o%2F1/commit` as the template `/reservations/{orderId}/commit` it was built from. */
const template = (path: string, orderId: string) => path.split(encodeURIComponent(orderId)).join('{orderId}');

let inventoryUrl: string;
let paymentUrl: string;
beforeAll(async () => {
  inventoryUrl = await participant('inventory');
  paymentUrl = await participant('payment');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
});

describe('the order saga calls', () => {
  test('exactly the operations its route contract declares, with each id percent-encoded', async () => {
    const saga = placeOrderSaga({ inventoryUrl, paymentUrl, deadlineMs: 60_000 });
    const orderId = 'ord/1 ?x';
    const input: PlaceOrderInput = {
      orderId,
      customerId: 'alice',
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 5 }],
      total: 5,
      currency: 'EUR',
      paymentToken: 'tok',
    };
    for (const step of saga.steps) {
      const ctx: StepContext<PlaceOrderInput> = {
        sagaId: 's1',
        step: step.name,
        phase: 'action',
        input,
        results: {},
        attempt: 1,
      };
      await step.action(ctx);
      if ('compensation' in step && step.compensation) {
        await step.compensation.run({ ...ctx, phase: 'compensation' });
      }
    }
    // the id never adds a path segment: a policy on /reservations/{*}/commit still matches
    expect(seen.every((s) => !s.path.includes('ord/1'))).toBe(true);
    const used = seen.map((s) => `${s.service} ${s.method} ${template(s.path, orderId)}`);
    const declared = Object.values(PLACE_ORDER_CALLS).map((o) => `${o.service} ${o.method} ${o.path}`);
    expect([...new Set(used)].sort()).toEqual(declared.sort());

    const contract = JSON.parse(readFileSync(contractFile, 'utf8')) as {
      'x-aio-calls': { service: string; method: string; path: string }[];
    };
    // the saga's calls and the catalog read that prices each line (order-pricing.e2e covers that one)
    const priced = Object.values(CATALOG_CALLS).map((o) => `${o.service} ${o.method} ${o.path}`);
    expect(contract['x-aio-calls'].map((o) => `${o.service} ${o.method} ${o.path}`).sort()).toEqual(
      [...declared, ...priced].sort(),
    );
  });
});
