import { StackScope, startStack, type Fault, type Stack } from '@aio/stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * The product page with review's rating summary: catalog and review as real processes, review behind
 * the stack's fault proxy (killed, answering 500, slow, blackholed). Catalog reads the summary
 * through the kit's dependency wrapper; these tests read its breaker from catalog's `GET /metrics`.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const REVIEW_TIMEOUT_MS = 300;
const FAILURE_THRESHOLD = 3;
const HALF_OPEN_MS = 1000;
/** The page's budget: review's deadline plus the page's own work (a primary-key read) and the loopback. */
const BUDGET_MS = REVIEW_TIMEOUT_MS + 200;
const UNAVAILABLE = { status: 'unavailable' };

let stack: Stack;
const url = (name: string) => stack.process(name).url;

async function send(
  method: string,
  target: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(target, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** One product page, timed. */
async function page(sku: string): Promise<{ status: number; body: Json; ms: number }> {
  const t0 = performance.now();
  const res = await send('GET', `${url('catalog')}/products/${sku}`);
  return { ...res, ms: performance.now() - t0 };
}

/** Catalog's `aio_dependency_*{dependency="review"}` figures: state (0 closed, 1 open, 2 half-open), opened, calls by outcome. */
const OUTCOMES = ['succeeded', 'failed', 'circuit-open', 'bulkhead-full', 'timeout', 'fallback'] as const;
async function reviewBreaker(): Promise<{
  state: number;
  opened: number;
  calls: Record<(typeof OUTCOMES)[number], number>;
}> {
  const text = await (await fetch(`${url('catalog')}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}\\{dependency="review"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const calls = Object.fromEntries(
    OUTCOMES.map((o) => [
      o,
      Number(
        new RegExp(`^aio_dependency_calls\\{dependency="review",outcome="${o}"\\} (\\d+)$`, 'm').exec(
          text,
        )?.[1] ?? 0,
      ),
    ]),
  ) as Record<(typeof OUTCOMES)[number], number>;
  return {
    state: value('aio_dependency_circuit_state'),
    opened: value('aio_dependency_circuit_opened'),
    calls,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The `Authorization` of a review written as `customer`: a token from the stack's issuer when the
 * stack has one (review takes the author from it), none on a stack without.
 */
async function signedInAs(customer: string): Promise<Record<string, string>> {
  const tokens = (stack as { tokens?: { for(subject: string): Promise<string> } }).tokens;
  return tokens ? { authorization: `Bearer ${await tokens.for(customer)}` } : {};
}

/** Review healthy again and catalog's circuit closed (a half-open trial read closes it). */
async function recover(): Promise<void> {
  stack.fault('review').set(undefined);
  if (!stack.process('review').running) await stack.process('review').start();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await page('PAGE-1')).body.reviews.status === 'ok' && (await reviewBreaker()).state === 0) return;
    await sleep(200);
  }
  throw new Error('catalog did not read review again within 15 s');
}

/** Puts `fault` on review (`kill`: the process is SIGKILLed behind the proxy). */
async function inject(fault: Fault | 'kill'): Promise<void> {
  if (fault === 'kill') await stack.process('review').kill9();
  else stack.fault('review').set(fault);
}

beforeAll(async () => {
  stack = await startStack({
    processes: ['catalog'],
    faults: ['review'],
    scope: StackScope.test('catalog_reviews'),
    commonEnv: { DB_POOL_MAX: '4' },
    env: {
      catalog: {
        REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
        REVIEW_FAILURE_THRESHOLD: String(FAILURE_THRESHOLD),
        REVIEW_HALF_OPEN_MS: String(HALF_OPEN_MS),
      },
    },
  });
  for (const sku of ['PAGE-1', 'PAGE-2']) {
    const put = await send('PUT', `${url('catalog')}/products/${sku}`, {
      name: `Mug ${sku}`,
      priceMinor: 950,
      currency: 'EUR',
    });
    expect(put.status).toBe(201);
  }
  for (const [customerId, rating] of [
    ['ann', 4],
    ['bob', 5],
    ['cy', 4],
  ] as const) {
    const review = await send(
      'POST',
      `${url('review')}/reviews`,
      { sku: 'PAGE-1', customerId, rating, title: 'fine mug', body: 'holds tea' },
      await signedInAs(customerId),
    );
    expect(review.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('product page', () => {
  test('shows the product with review rating summary while review answers', async () => {
    const reviewed = await page('PAGE-1');
    expect(reviewed.status).toBe(200);
    expect(reviewed.body).toMatchObject({
      sku: 'PAGE-1',
      name: 'Mug PAGE-1',
      priceMinor: 950,
      currency: 'EUR',
      version: 1,
      reviews: { status: 'ok', count: 3, average: 4.33 },
    });
    // a SKU nobody reviewed is "no reviews", not "unavailable"
    expect((await page('PAGE-2')).body.reviews).toEqual({ status: 'ok', count: 0, average: null });
    // an unknown SKU is still the catalog's 404 problem
    const missing = await page('NOPE-1');
    expect([missing.status, missing.body.detail]).toEqual([404, 'no product NOPE-1']);
    expect((await reviewBreaker()).state).toBe(0);
  });

  test.each<[string, Fault | 'kill']>([
    ['killed', 'kill'],
    ['answering 500', { kind: 'abort', percent: 100, status: 500 }],
    ['slow (2 s)', { kind: 'delay', ms: 2000 }],
    ['blackholed', { kind: 'blackhole' }],
  ])(
    'review %s: the page answers within its budget with reviews unavailable',
    async (_name, fault) => {
      await recover();
      await inject(fault);
      try {
        const pages = [];
        for (let i = 0; i < FAILURE_THRESHOLD + 2; i++) pages.push(await page('PAGE-1'));
        for (const p of pages) {
          expect(p.status).toBe(200);
          expect(p.body).toMatchObject({ sku: 'PAGE-1', priceMinor: 950, reviews: UNAVAILABLE });
          expect(p.body.reviews).toEqual(UNAVAILABLE);
          expect(p.ms).toBeLessThan(BUDGET_MS);
        }
        if (typeof fault !== 'string' && fault.kind !== 'abort') {
          // slow or blackholed: the first reads waited for the deadline, not less (the wrapper's
          // timeout is what bounds the page), and once the circuit opened, not at all
          expect(pages[0]!.ms).toBeGreaterThanOrEqual(REVIEW_TIMEOUT_MS - 5);
          expect(pages.at(-1)!.ms).toBeLessThan(REVIEW_TIMEOUT_MS / 2);
        }
        expect((await reviewBreaker()).state).toBe(1);
      } finally {
        await recover();
      }
    },
    60_000,
  );
});

describe("catalog's review breaker", () => {
  test('opens after the threshold of failures, fails fast while open, and closes after a half-open trial once review recovers', async () => {
    await recover();
    const before = await reviewBreaker();
    await inject({ kind: 'abort', percent: 100, status: 500 });
    for (let i = 0; i < FAILURE_THRESHOLD - 1; i++) await page('PAGE-1');
    expect((await reviewBreaker()).state).toBe(0); // one failure short of the threshold
    await page('PAGE-1');
    const open = await reviewBreaker();
    expect([open.state, open.opened]).toEqual([1, before.opened + 1]);

    // open: reads are not made (counted as circuit-open) and answer the fallback
    for (let i = 0; i < 5; i++) expect((await page('PAGE-1')).body.reviews).toEqual(UNAVAILABLE);
    const failingFast = await reviewBreaker();
    expect(failingFast.calls['circuit-open'] - open.calls['circuit-open']).toBe(5);
    expect(failingFast.calls.failed).toBe(open.calls.failed);

    // still failing after halfOpenAfter: the trial read fails and the circuit opens again
    await sleep(HALF_OPEN_MS + 100);
    expect((await page('PAGE-1')).body.reviews).toEqual(UNAVAILABLE);
    const reopened = await reviewBreaker();
    expect([reopened.state, reopened.opened]).toEqual([1, before.opened + 2]);
    expect(reopened.calls.failed).toBe(open.calls.failed + 1);

    // review recovers: still open until halfOpenAfter, then one trial read closes it
    stack.fault('review').set(undefined);
    expect((await page('PAGE-1')).body.reviews).toEqual(UNAVAILABLE);
    expect((await reviewBreaker()).state).toBe(1);
    await sleep(HALF_OPEN_MS + 100);
    expect((await page('PAGE-1')).body.reviews).toMatchObject({ status: 'ok', count: 3 });
    const closed = await reviewBreaker();
    expect([closed.state, closed.opened]).toEqual([0, before.opened + 2]);
    expect(closed.calls.fallback - before.calls.fallback).toBe(FAILURE_THRESHOLD + 5 + 1 + 1);
  }, 60_000);
});
