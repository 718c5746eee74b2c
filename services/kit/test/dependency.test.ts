import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import {
  Dependency,
  DependencyUnavailable,
  ServiceMetrics,
  StepFailure,
  dependency,
  participantCall,
  registerDependencyMetrics,
} from '../src/index.js';
import type { CircuitStateName } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class BusinessAnswer extends Error {}

/** Settles to the error a promise rejected with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('Dependency', () => {
  test('opens after consecutive failures, refuses without calling, half-opens and closes on a good trial', async () => {
    const dep = new Dependency({ name: 'review', failureThreshold: 3, halfOpenAfterMs: 150 });
    const states: CircuitStateName[] = [];
    dep.onStateChange((s) => states.push(s));
    let invoked = 0;
    const failing = async () => {
      invoked++;
      throw new Error('500');
    };
    for (let i = 0; i < 3; i++) await expect(dep.call(failing)).rejects.toThrow('500');
    expect(dep.state).toBe('open');

    const refused = await rejection(dep.call(failing));
    expect(refused).toBeInstanceOf(DependencyUnavailable);
    expect(refused).toMatchObject({ dependency: 'review', reason: 'circuit-open' });
    expect(invoked).toBe(3); // the refused call never ran

    await sleep(200);
    await expect(dep.call(async () => 'ok')).resolves.toBe('ok');
    expect(dep.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(dep.counters).toMatchObject({ succeeded: 1, failed: 3, opened: 1 });
    expect(dep.counters.unavailable['circuit-open']).toBe(1);
  });

  test('a failed trial opens the circuit again', async () => {
    const dep = new Dependency({ name: 'review', failureThreshold: 1, halfOpenAfterMs: 100 });
    await expect(dep.call(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await sleep(130);
    await expect(dep.call(() => Promise.reject(new Error('still down')))).rejects.toThrow('still down');
    expect(dep.state).toBe('open');
    expect(dep.counters.opened).toBe(2);
  });

  test('errors countsAsFailure rejects leave the circuit closed', async () => {
    const dep = new Dependency({
      name: 'review',
      failureThreshold: 2,
      countsAsFailure: (err) => !(err instanceof BusinessAnswer),
    });
    for (let i = 0; i < 5; i++)
      await expect(dep.call(() => Promise.reject(new BusinessAnswer('404')))).rejects.toBeInstanceOf(
        BusinessAnswer,
      );
    expect(dep.state).toBe('closed');
  });

  test('answers a timeout at the deadline, aborts the call and counts it against the callee', async () => {
    const dep = new Dependency({ name: 'review', timeoutMs: 80, failureThreshold: 2 });
    let aborted = 0;
    const hang = (signal: AbortSignal) =>
      new Promise<never>(() => signal.addEventListener('abort', () => aborted++));
    const started = Date.now();
    const err = await rejection(dep.call(hang));
    expect(err).toMatchObject({ reason: 'timeout', message: 'review: no reply within 80 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
    await rejection(dep.call(hang, 40)); // a call's own deadline
    expect(aborted).toBe(2);
    expect(dep.state).toBe('open');
    expect(dep.inFlight).toBe(0);
  });

  test('the bulkhead refuses the call above maxConcurrent at once, without running it', async () => {
    const dep = new Dependency({ name: 'review', maxConcurrent: 2 });
    const gates: (() => void)[] = [];
    let invoked = 0;
    const held = () =>
      new Promise<string>((resolve) => {
        invoked++;
        gates.push(() => resolve('done'));
      });
    const first = dep.call(held);
    const second = dep.call(held);
    await sleep(10);
    expect(dep.inFlight).toBe(2);
    const third = await rejection(dep.call(held));
    expect(third).toMatchObject({ reason: 'bulkhead-full' });
    expect(invoked).toBe(2);
    for (const open of gates) open();
    await expect(Promise.all([first, second])).resolves.toEqual(['done', 'done']);
    await expect(dep.call(async () => 'again')).resolves.toBe('again');
    expect(dep.state).toBe('closed'); // a refusal is the caller's overload, not the callee's failure
  });

  test('callOr answers the fallback for every kind of failure', async () => {
    const dep = new Dependency({ name: 'review', failureThreshold: 1, timeoutMs: 30 });
    const unavailable = { status: 'unavailable' } as const;
    expect(
      await dep.callOr(
        () => Promise.reject(new Error('500')),
        () => unavailable,
      ),
    ).toBe(unavailable);
    expect(
      await dep.callOr(
        async () => 'never run',
        (err) => (err as DependencyUnavailable).reason,
      ),
    ).toBe('circuit-open');
    expect(dep.counters.fallbacks).toBe(2);
  });

  test('throws on a setting that is not a positive integer, naming it', () => {
    expect(() => new Dependency({ name: 'review', maxConcurrent: 0 })).toThrow(
      "dependency review: 'maxConcurrent' must be a positive integer, got 0",
    );
    expect(() => new Dependency({ name: 'review', halfOpenAfterMs: 1.5 })).toThrow(
      /'halfOpenAfterMs'.*got 1\.5/,
    );
  });

  test('dependency() keeps one wrapper per name and origin', () => {
    const a = dependency({ name: 'catalog-test', origin: 'http://127.0.0.1:1' });
    expect(dependency({ name: 'catalog-test', origin: 'http://127.0.0.1:1', timeoutMs: 9 })).toBe(a);
    expect(dependency({ name: 'catalog-test', origin: 'http://127.0.0.1:2' })).not.toBe(a);
  });
});

describe('participantCall through the wrapper', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** A participant answering `answer(n)` for its n-th request (0-based); returns its URL and request count. */
  async function participant(answer: (n: number) => number | 'hang') {
    let requests = 0;
    server = http.createServer((req, res) => {
      const a = answer(requests++);
      req.resume();
      if (a === 'hang') return;
      res.writeHead(a, { 'content-type': 'application/json' }).end(JSON.stringify({ reason: 'OUT' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, requests: () => requests };
  }

  test('5 transient failures open the circuit: the next call is RETRYABLE without a request', async () => {
    const p = await participant(() => 503);
    const call = () => participantCall({ url: `${p.url}/reservations`, participant: 'inventory' });
    for (let i = 0; i < 5; i++)
      expect(await rejection(call())).toMatchObject({ kind: 'RETRYABLE', status: 503 });
    const fast = await rejection(call());
    expect(fast).toBeInstanceOf(StepFailure);
    expect(fast).toMatchObject({
      kind: 'RETRYABLE',
      message: 'POST /reservations: inventory: circuit open, call not made',
    });
    expect(p.requests()).toBe(5);
    expect(dependency({ name: 'inventory', origin: p.url }).state).toBe('open');
  });

  test('business rejections (4xx) never open the circuit, and no reply in time is a TIMEOUT', async () => {
    const p = await participant((n) => (n < 8 ? 409 : 'hang'));
    const call = () => participantCall({ url: `${p.url}/payments`, participant: 'payment', timeoutMs: 100 });
    for (let i = 0; i < 8; i++)
      expect(await rejection(call())).toMatchObject({ kind: 'REJECTED', reason: 'OUT' });
    expect(p.requests()).toBe(8);
    expect(await rejection(call())).toMatchObject({
      kind: 'TIMEOUT',
      message: 'POST /payments got no reply within 100 ms',
    });
    expect(dependency({ name: 'payment', origin: p.url }).state).toBe('closed');
  });
});

describe('registerDependencyMetrics', () => {
  test('exports each circuit state, calls by outcome and openings at scrape time', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    registerDependencyMetrics(metrics);
    registerDependencyMetrics(metrics); // a second registration shares the series
    const dep = dependency({ name: 'metrics-test', failureThreshold: 1, halfOpenAfterMs: 60_000 });
    const line = async (metric: string, labels: string) =>
      (await metrics.text()).split('\n').find((l) => l.startsWith(`${metric}{${labels}}`));
    expect(await line('aio_dependency_circuit_state', 'dependency="metrics-test"')).toBe(
      'aio_dependency_circuit_state{dependency="metrics-test"} 0',
    );
    await rejection(dep.call(() => Promise.reject(new Error('down'))));
    await rejection(dep.call(async () => 'not run'));
    expect(await line('aio_dependency_circuit_state', 'dependency="metrics-test"')).toBe(
      'aio_dependency_circuit_state{dependency="metrics-test"} 1',
    );
    expect(await line('aio_dependency_calls', 'dependency="metrics-test",outcome="circuit-open"')).toMatch(
      / 1$/,
    );
    expect(await line('aio_dependency_calls', 'dependency="metrics-test",outcome="failed"')).toMatch(/ 1$/);
    expect(await line('aio_dependency_circuit_opened', 'dependency="metrics-test"')).toMatch(/ 1$/);
  });
});
