import { StackScope, startStack, type Stack } from '@aio/stack';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  describePhase,
  isolationProblems,
  MIN_SAMPLES,
  phaseStats,
  type PhaseStats,
  type Sample,
} from './phase-stats.js';

// Fault isolation, proven (issue 18): processes from @aio/stack's table behind the local gateway
// (nginx generated from a copy of the fixture platform, with every order route at weight 100 and the
// catalog's product pages routed), a closed loop of orders and of product-page reads through the
// gateway, and review, for 20 s each, killed, answering 500 and blackholed through the stack's fault
// proxy. Healthy phases bracket every fault phase; each fault phase's orders are judged against its
// two brackets (phase-stats.ts says why), its product pages against their budget (review's deadline
// in the catalog plus a margin), with reviews marked unavailable. Then the order invariants.
const ROOT = join(import.meta.dirname, '../..');
const FIXTURE = fileURLToPath(new URL('../fixtures/platform.yaml', import.meta.url));
const HEALTHY_MS = 20_000; // as long as a fault phase: a p99 over a longer window sees more of the load spikes
const FAULT_MS = 20_000;
const ORDER_WORKERS = 4;
const PAGE_WORKERS = 2;
/** Catalog's deadline on review's rating summary (its REVIEW_TIMEOUT_MS default) and its breaker's half-open wait. */
const REVIEW_TIMEOUT_MS = 300;
const REVIEW_HALF_OPEN_MS = 2000;
/** A product page's budget: review's deadline plus a margin for the page's own work and the gateway. */
const PAGE_BUDGET_MS = REVIEW_TIMEOUT_MS + 200;
const SKUS = ['ISO-1', 'ISO-2', 'ISO-3'];
const INITIAL = 1_000_000;

const dir = mkdtempSync(join(tmpdir(), 'aio-isolation-'));
let stack: Stack;
let gatewayUrl: string;

beforeAll(async () => {
  // a scratch copy: absolute contract paths, and every order at the order service (weight 100)
  const spec = parse(readFileSync(FIXTURE, 'utf8').replaceAll('../../', `${ROOT}/`)) as {
    services: Record<string, { routes: { weight: number }[] }>;
  };
  // public routes: this test measures isolation; test/gateway/edge-token.e2e.test.ts checks tokens
  for (const r of spec.services.order!.routes) Object.assign(r, { weight: 100, auth: 'public' });
  // the product pages: the catalog's whole path, as in platform.yaml
  spec.services.catalog!.routes = [
    { path: '/api/products', servicePath: '/products', weight: 100, auth: 'public' } as never,
  ];
  // a closed loop on an idle machine places thousands of orders a minute: above the edge's rate
  // limit, every order would be a 429 and the phases would measure the limiter, not review's faults
  (spec as { gateway?: { rateLimit?: { perMinute: number } } }).gateway!.rateLimit = { perMinute: 1_000_000 };
  writeFileSync(join(dir, 'platform.yaml'), stringify(spec));
  stack = await startStack({
    processes: ['gateway', 'review'],
    faults: ['review'],
    scope: StackScope.test('isolation'),
    commonEnv: { DB_POOL_MAX: '4' },
    env: {
      inventory: { SWEEP_INTERVAL_MS: '200' },
      catalog: {
        REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
        REVIEW_HALF_OPEN_MS: String(REVIEW_HALF_OPEN_MS),
      },
      gateway: { AIO_PLATFORM_FILE: join(dir, 'platform.yaml') },
    },
  });
  gatewayUrl = stack.process('gateway').url;
  for (const sku of SKUS) {
    const res = await fetch(`${stack.process('inventory').url}/stock/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ available: INITIAL }),
    });
    expect(res.status).toBeLessThan(300);
    // order prices every line from the catalog: the 10 EUR the order bodies state
    const product = await fetch(`${stack.process('catalog').url}/products/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: sku, priceMinor: 1000, currency: 'EUR' }),
    });
    expect(product.status).toBeLessThan(300);
  }
  // ISO-1 has a rating summary to show while review answers
  // written as a customer: with a token from the stack's issuer when it has one (review's author)
  const tokens = (stack as { tokens?: { for(subject: string): Promise<string> } }).tokens;
  const review = await fetch(`${stack.process('review').url}/reviews`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(tokens ? { authorization: `Bearer ${await tokens.for('iso-reviewer')}` } : {}),
    },
    body: JSON.stringify({ sku: 'ISO-1', customerId: 'iso-reviewer', rating: 4, title: 'ok', body: 'ok' }),
  });
  expect(review.status).toBe(201);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One order through the gateway, waiting for its outcome: ok when it is APPROVED. */
async function placeOrder(worker: number, n: number): Promise<boolean> {
  const sku = SKUS[(worker + n) % SKUS.length]!;
  try {
    const res = await fetch(`${gatewayUrl}/api/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        prefer: 'wait=10',
        cookie: `aio_customer=iso-${worker}`,
        // the worker's customer, signed in with the stack's issuer (the services check the token)
        authorization: `Bearer ${await stack.tokens.for(`iso-${worker}`)}`,
      },
      body: JSON.stringify({
        customerId: `iso-${worker}`,
        currency: 'EUR',
        paymentToken: 'tok_visa',
        items: [{ sku, quantity: 1, unitPrice: 10 }],
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { status?: string };
    return res.status === 201 && body.status === 'APPROVED';
  } catch {
    return false;
  }
}

/** One product page read through the gateway. */
interface PageSample extends Sample {
  /** The page's `reviews.status` (`ok` / `unavailable`), or undefined when there was no page. */
  readonly reviews: string | undefined;
}

/** One product page through the gateway: ok when it is a 200 with the product's price. */
async function readPage(n: number): Promise<Omit<PageSample, 'at' | 'ms'>> {
  const sku = SKUS[n % SKUS.length]!;
  try {
    const res = await fetch(`${gatewayUrl}/api/products/${sku}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { sku?: string; priceMinor?: number; reviews?: { status?: string } };
    return {
      ok: res.status === 200 && body.sku === sku && body.priceMinor === 1000,
      reviews: body.reviews?.status,
    };
  } catch {
    return { ok: false, reviews: undefined };
  }
}

/** Whether review answers through the gateway within 2 s (the probe that a fault is really on). */
async function reviewAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`${gatewayUrl}/api/reviews?sku=ISO-1`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** A `aio_dependency_*` gauge per dependency on a service's `GET /metrics`. */
async function dependencyGauge(serviceUrl: string, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const values: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{dependency="([^"]+)"\\} (\\d+)$`, 'gm')))
    values[m[1]!] = Number(m[2]);
  return values;
}

/** The `aio_dependency_circuit_state` of each dependency on a service's `GET /metrics` (0 closed, 1 open, 2 half-open). */
const circuitStates = (serviceUrl: string) => dependencyGauge(serviceUrl, 'aio_dependency_circuit_state');

/** Catalog's review breaker: its state (0 closed, 1 open, 2 half-open) and the times it opened. */
async function catalogReviewBreaker(): Promise<{ state: number; opened: number }> {
  const url = stack.process('catalog').url;
  const [states, opened] = await Promise.all([
    circuitStates(url),
    dependencyGauge(url, 'aio_dependency_circuit_opened'),
  ]);
  return { state: states.review ?? Number.NaN, opened: opened.review ?? Number.NaN };
}

interface Phase {
  readonly name: string;
  readonly kind: 'healthy' | 'fault';
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fault isolation', () => {
  test('orders keep their success rate and p99, product pages their budget, while review is killed, answering 500 or blackholed', async () => {
    const review = () => stack.fault('review');
    const phases: Phase[] = [
      { name: 'healthy 1', kind: 'healthy' },
      {
        name: 'review killed',
        kind: 'fault',
        start: () => stack.process('review').kill9(),
        stop: () => stack.process('review').start(),
      },
      { name: 'healthy 2', kind: 'healthy' },
      {
        name: 'review answers 500',
        kind: 'fault',
        start: async () => review().set({ kind: 'abort', percent: 100, status: 500 }),
        stop: async () => review().set(undefined),
      },
      { name: 'healthy 3', kind: 'healthy' },
      {
        name: 'review blackholed',
        kind: 'fault',
        start: async () => review().set({ kind: 'blackhole' }),
        stop: async () => review().set(undefined),
      },
      { name: 'healthy 4', kind: 'healthy' },
    ];

    // the closed loop: each worker places its next order as soon as the last one settled; a sample
    // belongs to the phase it started and ended in (one that spans a switch is dropped)
    const started = Date.now();
    let current = -1; // -1: warm-up, -2: between phases
    const samples = new Map<number, Sample[]>();
    let running = true;
    const workers = Array.from({ length: ORDER_WORKERS }, async (_, w) => {
      for (let n = 0; running; n++) {
        const phase = current;
        const t0 = performance.now();
        const ok = await placeOrder(w, n);
        const ms = performance.now() - t0;
        if (phase >= 0 && phase === current)
          (samples.get(phase) ?? samples.set(phase, []).get(phase)!).push({
            at: Date.now() - started,
            ms,
            ok,
          });
      }
    });
    // the product-page readers, in the same closed loop
    const pages = new Map<number, PageSample[]>();
    const readers = Array.from({ length: PAGE_WORKERS }, async (_, w) => {
      for (let n = w; running; n += PAGE_WORKERS) {
        const phase = current;
        const t0 = performance.now();
        const read = await readPage(n);
        const ms = performance.now() - t0;
        if (phase >= 0 && phase === current)
          (pages.get(phase) ?? pages.set(phase, []).get(phase)!).push({
            at: Date.now() - started,
            ms,
            ...read,
          });
      }
    });

    const faultSeen: Record<string, boolean> = {};
    const seconds: number[] = [];
    const breakers: Record<string, Record<string, number>> = {};
    // catalog's review breaker at the start, middle and end of each phase
    const reviewBreaker: { start: number; mid: number; end: number; opened: number }[] = [];
    try {
      await sleep(5_000); // warm-up: connections, JIT, the first sagas
      for (const [i, phase] of phases.entries()) {
        current = -2;
        const atStart = await catalogReviewBreaker(); // before the fault: page reads open it within ms
        await phase.start?.();
        current = i;
        const phaseStarted = Date.now();
        let mid = atStart;
        if (phase.kind === 'fault') {
          await sleep(FAULT_MS / 2);
          faultSeen[phase.name] = !(await reviewAnswers());
          breakers[phase.name] = await circuitStates(stack.process('order').url);
          mid = await catalogReviewBreaker();
          await sleep(FAULT_MS / 2);
        } else {
          // at least HEALTHY_MS, and long enough for a p99 interval when the machine is slow (at most 30 s)
          const t0 = Date.now();
          await sleep(HEALTHY_MS);
          while ((samples.get(i)?.length ?? 0) < MIN_SAMPLES && Date.now() - t0 < 30_000) await sleep(500);
        }
        seconds[i] = (Date.now() - phaseStarted) / 1000;
        const atEnd = await catalogReviewBreaker();
        reviewBreaker[i] = {
          start: atStart.state,
          mid: mid.state,
          end: atEnd.state,
          opened: atEnd.opened - atStart.opened,
        };
        current = -2;
        await phase.stop?.();
        if (phase.stop) for (let t = 0; t < 50 && !(await reviewAnswers()); t++) await sleep(100);
      }
    } finally {
      running = false;
      await Promise.all([...workers, ...readers]);
    }

    const stats: PhaseStats[] = phases.map((p, i) =>
      phaseStats(p.name, samples.get(i) ?? [], seconds[i] ?? 1),
    );
    const pageStats: PhaseStats[] = phases.map((p, i) =>
      phaseStats(p.name, pages.get(i) ?? [], seconds[i] ?? 1),
    );
    const unavailable = phases.map(
      (_, i) => (pages.get(i) ?? []).filter((s) => s.reviews === 'unavailable').length,
    );
    console.log(
      `fault isolation (orders through the gateway, ${ORDER_WORKERS} workers):\n${stats.map(describePhase).join('\n')}\n` +
        `product pages through the gateway (${PAGE_WORKERS} readers, budget ${PAGE_BUDGET_MS} ms):\n` +
        pageStats
          .map(
            (p, i) =>
              `${describePhase(p)}  reviews unavailable ${unavailable[i]}/${p.n}  review breaker ${JSON.stringify(reviewBreaker[i])}`,
          )
          .join('\n'),
    );
    // each fault was really on: review did not answer through the gateway in the middle of it
    expect(faultSeen).toEqual({
      'review killed': true,
      'review answers 500': true,
      'review blackholed': true,
    });
    // order's own breakers (inventory, payment, through the kit's wrapper) stayed closed: review's
    // faults never reached the order path
    const closed = { inventory: 0, payment: 0, catalog: 0 };
    expect(breakers).toEqual({
      'review killed': closed,
      'review answers 500': closed,
      'review blackholed': closed,
    });
    const problems = phases.flatMap((p, i) =>
      p.kind === 'fault' ? isolationProblems(stats[i]!, stats[i - 1]!, stats[i + 1]!) : [],
    );
    expect(problems).toEqual([]);

    // product pages: every one answered; in a fault phase within the budget (p99) with reviews
    // unavailable, each of them; in a healthy one with the rating summary once catalog's breaker closed
    const pageProblems = phases.flatMap((p, i) => {
      const list = pages.get(i) ?? [];
      const st = pageStats[i]!;
      const out: string[] = [];
      if (st.n < MIN_SAMPLES) out.push(`${p.name}: ${st.n} product pages, fewer than ${MIN_SAMPLES}`);
      if (st.successRate < 1) out.push(`${p.name}: ${list.filter((s) => !s.ok).length} product pages failed`);
      if (p.kind === 'fault') {
        if (!(st.p99 <= PAGE_BUDGET_MS))
          out.push(
            `${p.name}: product page p99 ${st.p99.toFixed(1)} ms is above the budget ${PAGE_BUDGET_MS} ms`,
          );
        if (unavailable[i] !== st.n)
          out.push(
            `${p.name}: ${st.n - unavailable[i]!} of ${st.n} product pages did not mark reviews unavailable`,
          );
      } else if (list.at(-1)?.reviews !== 'ok') {
        out.push(`${p.name}: the last product page showed reviews ${list.at(-1)?.reviews}`);
      }
      return out;
    });
    expect(pageProblems).toEqual([]);
    // catalog's review breaker: closed when each fault starts, open (or trying half-open) in the middle
    // of it, having opened during it; closed again by the end of the healthy phase after it
    expect(
      phases.map((p, i) => {
        const b = reviewBreaker[i]!;
        return p.kind === 'fault'
          ? { phase: p.name, start: b.start, openMid: b.mid !== 0, opened: b.opened > 0 }
          : { phase: p.name, end: b.end };
      }),
    ).toEqual(
      phases.map((p) =>
        p.kind === 'fault'
          ? { phase: p.name, start: 0, openMid: true, opened: true }
          : { phase: p.name, end: 0 },
      ),
    );

    await expectOrderInvariants(stack);
  }, 240_000);
});

/** Every order settled; stock, payments and sagas agree with the orders. */
async function expectOrderInvariants(s: Stack): Promise<void> {
  const orderDb = new pg.Client({ connectionString: s.database('order').url });
  const paymentDb = new pg.Client({ connectionString: s.database('payment').url });
  await Promise.all([orderDb.connect(), paymentDb.connect()]);
  try {
    const deadline = Date.now() + 60_000;
    let pending = -1;
    while (pending !== 0 && Date.now() < deadline) {
      pending = (await orderDb.query("SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'"))
        .rows[0].n;
      if (pending) await sleep(200);
    }
    expect(pending).toBe(0);
    const orders = (
      await orderDb.query<{ order_id: string; status: string; items: { sku: string; quantity: number }[] }>(
        'SELECT order_id, status, items FROM orders',
      )
    ).rows;
    const sagas = (await orderDb.query('SELECT state, count(*)::int AS n FROM saga_instance GROUP BY state'))
      .rows;
    expect(sagas.filter((r) => !['COMPLETED', 'COMPENSATED'].includes(r.state))).toEqual([]);
    for (const sku of SKUS) {
      const stock = (await (await fetch(`${s.process('inventory').url}/stock/${sku}`)).json()) as {
        available: number;
        reserved: number;
        sold: number;
      };
      const approvedUnits = orders
        .filter((o) => o.status === 'APPROVED')
        .flatMap((o) => o.items)
        .filter((it) => it.sku === sku)
        .reduce((n, it) => n + it.quantity, 0);
      expect({ sku, sold: stock.sold, reserved: stock.reserved }).toEqual({
        sku,
        sold: approvedUnits,
        reserved: 0,
      });
      expect(stock.available + stock.sold).toBe(INITIAL);
    }
    const payments = new Map(
      (
        await paymentDb.query<{ order_id: string; status: string; captures: number }>(
          'SELECT order_id, status, captures FROM payments',
        )
      ).rows.map((p) => [p.order_id, p]),
    );
    const wrong = orders.filter((o) => {
      const p = payments.get(o.order_id);
      return o.status === 'APPROVED'
        ? !(p?.status === 'CAPTURED' && p.captures === 1)
        : (p?.captures ?? 0) !== 0;
    });
    expect(wrong.map((o) => `${o.order_id} ${o.status} ${JSON.stringify(payments.get(o.order_id))}`)).toEqual(
      [],
    );
    console.log(`order invariants: ${orders.length} orders, sagas ${JSON.stringify(sagas)}`);
  } finally {
    await Promise.all([orderDb.end(), paymentDb.end()]);
  }
}
