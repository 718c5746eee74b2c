import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/index.js';
import { ensureSagaSchema, findStuckSagas, loadSaga, retrySaga } from './private/saga-store.js';
import type { RetryPolicy } from './retry-policy.js';
import { defineSaga, type SagaDefinition, type SagaStep, type StepContext } from './saga-definition.js';
import { SagaEngine, type BoundaryEvent } from './saga-engine.js';
import type { SagaRecord } from './saga-schema.js';
import { SimulatedCrash, StepFailure } from './step-failure.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('saga_engine');
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined); // DROP DATABASE ... FORCE ends idle connections at teardown
  await ensureSagaSchema(pool);
  await pool.query('CREATE TABLE business (id uuid PRIMARY KEY, status text NOT NULL)');
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** A fake participant: effects are applied once per idempotency key, like the real services. */
class Participant {
  public readonly calls: string[] = [];
  public readonly effects = new Map<string, number>();
  public apply(key: string): void {
    this.calls.push(key);
    if (!this.effects.has(key)) this.effects.set(key, 1);
  }
}

const fast = { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 20 };
let typeSeq = 0;
const shortTimeouts = [1, 2, 3, 4].map(() => ({ timeoutMs: 50 }));
const key = (ctx: StepContext<unknown>) =>
  `${ctx.sagaId}:${ctx.step}${ctx.phase === 'compensation' ? ':compensate' : ''}`;

/** What a test changes in one of the four steps. */
interface StepOverride {
  readonly action?: (ctx: StepContext<{ n: number }>) => Promise<unknown>;
  readonly compensation?: (ctx: StepContext<{ n: number }>) => Promise<void>;
  readonly retry?: RetryPolicy;
  readonly compensationRetry?: RetryPolicy;
  readonly timeoutMs?: number;
}

/** reserve, authorize (compensable), commit (pivot), capture (retriable), each applying its key once. */
function saga(
  p: Participant,
  steps: readonly StepOverride[] = [],
  over: Partial<SagaDefinition<{ n: number }>> = {},
) {
  const names = ['reserve', 'authorize', 'commit', 'capture'];
  return defineSaga<{ n: number }>({
    type: `t${++typeSeq}`,
    version: 1,
    deadlineMs: 30_000,
    ...over,
    steps: names.map((name, i): SagaStep<{ n: number }> => {
      const o = steps[i] ?? {};
      const base = {
        name,
        retry: o.retry ?? fast,
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        action:
          o.action ??
          (async (ctx: StepContext<{ n: number }>) => {
            p.apply(key(ctx));
            return { step: name };
          }),
      };
      if (name === 'commit') return { ...base, kind: 'PIVOT' };
      if (name === 'capture') return { ...base, kind: 'RETRIABLE' };
      const run = o.compensation ?? (async (ctx: StepContext<{ n: number }>) => p.apply(key(ctx)));
      return {
        ...base,
        kind: 'COMPENSABLE',
        compensation: { run, retry: o.compensationRetry ?? { ...fast, maxAttempts: 5 } },
      };
    }),
    onFinish: (outcome) => ({
      sql: 'INSERT INTO business (id, status) SELECT id, $1 FROM saga_finished',
      params: [outcome.state],
    }),
  });
}

async function runOne(engine: SagaEngine, type: string): Promise<SagaRecord> {
  const client = await pool.connect();
  let created;
  try {
    await client.query('BEGIN');
    created = await engine.create(client, type, { n: 1 });
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  created.dispatch();
  await engine.idle();
  return (await loadSaga(pool, created.id))!;
}

async function business(id: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM business WHERE id = $1', [id]);
  return rows[0]?.status;
}

describe('SagaEngine', () => {
  test('runs every step in order with <sagaId>:<step> keys and finishes with the hook in the end statement', async () => {
    const p = new Participant();
    const def = saga(p);
    const engine = new SagaEngine({ pool }).register(def);
    const rec = await runOne(engine, def.type);
    expect(rec.state).toBe('COMPLETED');
    expect(p.calls).toEqual(['reserve', 'authorize', 'commit', 'capture'].map((s) => `${rec.id}:${s}`));
    expect(await business(rec.id)).toBe('COMPLETED');
    expect(rec.steps.capture).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  test('retries a transient failure with backoff before compensating', async () => {
    const p = new Participant();
    let failures = 0;
    const def = saga(p, [
      {},
      {
        action: async (ctx) => {
          if (failures++ < 2) throw StepFailure.retryable('503');
          p.apply(key(ctx));
          return {};
        },
      },
    ]);
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(rec.state).toBe('COMPLETED');
    expect(rec.steps.authorize).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
    expect([...p.effects.keys()].filter((k) => k.endsWith(':compensate'))).toEqual([]);
  });

  test('compensates earlier steps in reverse order at once on a business rejection', async () => {
    const p = new Participant();
    const order: string[] = [];
    const def = saga(p, [
      { compensation: async (ctx) => void order.push(ctx.step) },
      {
        action: async () => {
          throw StepFailure.rejected('card_declined', 402);
        },
        compensation: async (ctx) => void order.push(ctx.step),
      },
    ]);
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(rec.state).toBe('COMPENSATED');
    expect(rec.failure).toMatchObject({ step: 'authorize', reason: 'card_declined' });
    expect(rec.steps.authorize).toMatchObject({ status: 'REJECTED', attempts: 1 });
    expect(order).toEqual(['reserve']); // a rejected step did nothing, so only reserve is undone
    expect(await business(rec.id)).toBe('COMPENSATED');
  });

  test('compensates a step whose action timed out, because it may have happened', async () => {
    const p = new Participant();
    const undone: string[] = [];
    const def = saga(p, [
      { compensation: async (ctx) => void undone.push(ctx.step) },
      {
        timeoutMs: 30,
        retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 5 },
        action: (ctx) => new Promise((r) => setTimeout(() => r(p.apply(key(ctx))), 200)),
        compensation: async (ctx) => void undone.push(ctx.step),
      },
    ]);
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(rec.state).toBe('COMPENSATED');
    expect(rec.failure?.reason).toBe('RETRIES_EXHAUSTED');
    expect(undone).toEqual(['authorize', 'reserve']);
  });

  test('retries a compensation that fails N times until it succeeds', async () => {
    const p = new Participant();
    let voidFailures = 0;
    const def = saga(p, [
      {},
      {
        compensation: async (ctx) => {
          if (voidFailures++ < 3) throw StepFailure.retryable('payment down');
          p.apply(key(ctx));
        },
      },
      { action: async () => Promise.reject(StepFailure.rejected('RESERVATION_EXPIRED', 409)) },
    ]);
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(rec.state).toBe('COMPENSATED');
    expect(rec.steps.authorize).toMatchObject({ status: 'COMPENSATED', compensationAttempts: 4 });
    expect(p.effects.has(`${rec.id}:authorize:compensate`)).toBe(true);
  });

  test('marks a saga FAILED_NEEDS_OPERATOR when a compensation never succeeds, and an operator retry finishes it', async () => {
    const p = new Participant();
    let healthy = false;
    const def = saga(p, [
      {
        compensation: async (ctx) => {
          if (!healthy) throw new Error('inventory unreachable');
          p.apply(key(ctx));
        },
      },
      { action: async () => Promise.reject(StepFailure.rejected('card_declined', 402)) },
    ]);
    const engine = new SagaEngine({ pool, pollIntervalMs: 20 }).register(def);
    const rec = await runOne(engine, def.type);
    expect(rec.state).toBe('FAILED_NEEDS_OPERATOR');
    expect(rec.steps.reserve).toMatchObject({ status: 'COMPENSATING', compensationAttempts: 5 });
    expect((await findStuckSagas(pool, 60_000)).map((s) => s.id)).toContain(rec.id);
    expect(await business(rec.id)).toBeUndefined();

    healthy = true;
    expect(await retrySaga(pool, rec.id)).toBe(true);
    expect(await engine.poll()).toBe(1);
    await engine.idle();
    expect((await loadSaga(pool, rec.id))?.state).toBe('COMPENSATED');
    expect(await business(rec.id)).toBe('COMPENSATED');
    expect(await retrySaga(pool, rec.id)).toBe(false);
  });

  test('compensates when the saga deadline passes', async () => {
    const p = new Participant();
    const def = saga(
      p,
      [
        {},
        {
          action: async () => Promise.reject(StepFailure.retryable('503')),
          retry: { maxAttempts: 100, initialDelayMs: 20, maxDelayMs: 20 },
        },
      ],
      {
        deadlineMs: 150,
      },
    );
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(rec.state).toBe('COMPENSATED');
    expect(rec.failure?.reason).toBe('DEADLINE_EXCEEDED');
    expect(p.effects.has(`${rec.id}:reserve:compensate`)).toBe(true);
    expect(p.effects.has(`${rec.id}:authorize:compensate`)).toBe(true);
  });

  for (const point of ['before', 'after'] as const) {
    for (const step of ['reserve', 'authorize', 'commit', 'capture']) {
      test(`resumes on another replica after a crash ${point} the ${step} call, with each effect once`, async () => {
        const p = new Participant();
        const def = saga(p, shortTimeouts); // leases cover the call timeout, so keep it short
        let crashed = false;
        const onBoundary = (e: BoundaryEvent) => {
          if (!crashed && e.step === step && e.point === point && e.phase === 'action') {
            crashed = true;
            throw new SimulatedCrash(`${point} ${step}`);
          }
        };
        const first = new SagaEngine({ pool, leaseMs: 150, onBoundary }).register(def);
        const rec = await runOne(first, def.type);
        expect(rec.state).toBe('RUNNING');
        expect(rec.steps[step]?.status).toBe('STARTED');

        const replica = new SagaEngine({ pool, leaseMs: 150 }).register(def);
        expect(await replica.poll()).toBe(0); // lease still held by the crashed worker
        await new Promise((r) => setTimeout(r, 200));
        expect(await replica.poll()).toBe(1);
        await replica.idle();
        const done = (await loadSaga(pool, rec.id))!;
        expect(done.state).toBe('COMPLETED');
        expect([...p.effects.keys()]).toEqual(
          ['reserve', 'authorize', 'commit', 'capture'].map((s) => `${rec.id}:${s}`),
        );
        expect(p.calls.length).toBe(point === 'after' ? 5 : 4); // the repeated call reused the key
      });
    }
  }

  test('finishes an in-flight saga on the version it started with, by step name', async () => {
    const p = new Participant();
    const v1 = saga(p, shortTimeouts);
    let crashed = false;
    const first = new SagaEngine({
      pool,
      leaseMs: 100,
      onBoundary: (e) => {
        if (!crashed && e.step === 'authorize') {
          crashed = true;
          throw new SimulatedCrash('deploy');
        }
      },
    }).register(v1);
    const rec = await runOne(first, v1.type);
    const fraud: SagaStep<{ n: number }> = {
      name: 'fraudCheck',
      kind: 'COMPENSABLE',
      retry: fast,
      action: async (ctx) => p.apply(key(ctx)),
    };
    const v2 = defineSaga({ ...v1, version: 2, steps: [v1.steps[0]!, fraud, ...v1.steps.slice(1)] });
    const next = new SagaEngine({ pool, leaseMs: 100 }).register(v1).register(v2);
    await new Promise((r) => setTimeout(r, 150));
    expect(await next.poll()).toBe(1);
    await next.idle();
    expect((await loadSaga(pool, rec.id))?.state).toBe('COMPLETED');
    expect(p.calls.some((k) => k.startsWith(rec.id) && k.endsWith('fraudCheck'))).toBe(false);
    const fresh = await runOne(next, v1.type);
    expect(fresh.version).toBe(2);
    expect(Object.keys(fresh.steps)).toContain('fraudCheck');
  });

  test('shares unfinished sagas between replicas without running any twice', async () => {
    const p = new Participant();
    const active = new Set<string>();
    let overlaps = 0;
    const def = saga(p, [
      {
        action: async (ctx) => {
          if (active.has(ctx.sagaId)) overlaps++;
          active.add(ctx.sagaId);
          await new Promise((r) => setTimeout(r, 5));
          active.delete(ctx.sagaId);
          p.apply(key(ctx));
          return {};
        },
      },
    ]);
    const ids: string[] = [];
    const creator = new SagaEngine({ pool }).register(def);
    const client = await pool.connect();
    await client.query('BEGIN');
    for (let i = 0; i < 40; i++) ids.push((await creator.create(client, def.type, { n: i })).id);
    // orphaned: created by a "crashed" process, lease already expired
    await client.query(
      `UPDATE saga_instance SET lease_until = now() - interval '1 second' WHERE id = ANY($1)`,
      [ids],
    );
    await client.query('COMMIT');
    client.release();
    const replicas = [1, 2, 3].map(() => new SagaEngine({ pool, batchSize: 7 }).register(def));
    await Promise.all(
      replicas.map(async (r) => {
        while ((await r.poll()) > 0) await r.idle();
        await r.idle();
      }),
    );
    const { rows } = await pool.query<{ state: string; n: string }>(
      'SELECT state, count(*) AS n FROM saga_instance WHERE id = ANY($1) GROUP BY state',
      [ids],
    );
    expect(rows).toEqual([{ state: 'COMPLETED', n: '40' }]);
    expect(overlaps).toBe(0);
    expect(p.calls.filter((k) => k.endsWith(':reserve'))).toHaveLength(40);
  });

  // each kind, with a limit unlike any default, so a definition-wide number cannot pass for it
  for (const [index, kind, limit, ends] of [
    [1, 'COMPENSABLE', 3, 'COMPENSATED'],
    [2, 'PIVOT', 7, 'FAILED_NEEDS_OPERATOR'],
    [3, 'RETRIABLE', 6, 'FAILED_NEEDS_OPERATOR'],
  ] as const) {
    test(`calls a ${kind} action exactly retry.maxAttempts (${limit}) times, then ends ${ends}`, async () => {
      const p = new Participant();
      let calls = 0;
      const overrides: StepOverride[] = [];
      overrides[index] = {
        retry: { maxAttempts: limit, initialDelayMs: 1, maxDelayMs: 2 },
        action: async () => {
          calls++;
          throw StepFailure.retryable('503');
        },
      };
      const def = saga(p, overrides);
      const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
      const name = def.steps[index]!.name;
      expect(calls).toBe(limit);
      expect(rec.steps[name]?.attempts).toBe(limit);
      expect(rec.state).toBe(ends);
      expect(rec.failure).toMatchObject({ step: name, reason: 'RETRIES_EXHAUSTED' });
      if (kind === 'COMPENSABLE') {
        // maybe done, so undone too, like the step before it
        expect(p.effects.has(`${rec.id}:${name}:compensate`)).toBe(true);
        expect(p.effects.has(`${rec.id}:reserve:compensate`)).toBe(true);
      } else {
        expect(rec.failure?.phase).toBe('forward');
        expect([...p.effects.keys()].some((k) => k.endsWith(':compensate'))).toBe(false);
      }
    });
  }

  test('calls a compensation exactly compensation.retry.maxAttempts times, then hands it to an operator', async () => {
    const p = new Participant();
    let calls = 0;
    const def = saga(p, [
      {
        compensationRetry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
        compensation: async () => {
          calls++;
          throw StepFailure.retryable('inventory down');
        },
      },
      { action: async () => Promise.reject(StepFailure.rejected('card_declined', 402)) },
    ]);
    const rec = await runOne(new SagaEngine({ pool }).register(def), def.type);
    expect(calls).toBe(3);
    expect(rec.state).toBe('FAILED_NEEDS_OPERATOR');
    expect(rec.steps.reserve).toMatchObject({ status: 'COMPENSATING', compensationAttempts: 3 });
  });

  test('throws on a definition that leaves a kind or an attempt limit out, or compensates a pivot', () => {
    const action = async () => undefined;
    const retry = { maxAttempts: 2 };
    const bad = (steps: unknown[]) => () =>
      defineSaga({ type: 'bad', version: 1, steps: steps as SagaStep<unknown>[] });
    expect(bad([{ name: 'a', retry, action }])).toThrow(
      "saga bad: step 'a': kind must be COMPENSABLE, PIVOT or RETRIABLE, got undefined",
    );
    expect(bad([{ name: 'a', kind: 'PIVOT', action }])).toThrow(
      "saga bad: step 'a': retry.maxAttempts must be a positive integer, got undefined",
    );
    expect(bad([{ name: 'a', kind: 'COMPENSABLE', retry: { maxAttempts: 0 }, action }])).toThrow(
      /retry.maxAttempts must be a positive integer, got 0/,
    );
    expect(
      bad([{ name: 'a', kind: 'COMPENSABLE', retry, action, compensation: { run: action, retry: {} } }]),
    ).toThrow("saga bad: step 'a': compensation.retry.maxAttempts must be a positive integer, got undefined");
    expect(bad([{ name: 'a', kind: 'PIVOT', retry, action, compensation: { run: action, retry } }])).toThrow(
      "saga bad: step 'a' is PIVOT: only COMPENSABLE steps have a compensation",
    );
  });
});

describe('SagaHandle', () => {
  async function create(engine: SagaEngine, type: string) {
    const client = await pool.connect();
    try {
      return await engine.create(client, type, { n: 1 }); // autocommit: visible at once
    } finally {
      client.release();
    }
  }

  test('getResult resolves with the settled saga when it ends in this process, as stored', async () => {
    const def = saga(new Participant());
    const engine = new SagaEngine({ pool }).register(def);
    const created = await create(engine, def.type);
    created.dispatch();
    const result = await created.getResult();
    expect(result).toMatchObject({ id: created.id, state: 'COMPLETED' });
    expect(await created.getStatus()).toMatchObject({ id: created.id, state: 'COMPLETED' });
    expect((await engine.handle(created.id).getResult({ timeoutMs: 1000 }))?.state).toBe('COMPLETED');
  });

  test('getResult of a saga another replica runs is read until it settles', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = new Participant();
    const def = saga(p, [
      {
        action: async (ctx) => {
          await gate;
          p.apply(key(ctx));
        },
      },
    ]);
    const runner = new SagaEngine({ pool }).register(def);
    const watcher = new SagaEngine({ pool, pollIntervalMs: 20 }).register(def);
    const created = await create(runner, def.type);
    created.dispatch();
    const waiting = watcher.handle(created.id).getResult({ timeoutMs: 10_000 });
    expect(await watcher.handle(created.id).getResult({ timeoutMs: 60 })).toBeUndefined(); // timed out
    release();
    expect((await waiting)?.state).toBe('COMPLETED');
    await runner.idle();
  });

  test('getResult follows a saga whose run here gave it back for a later retry', async () => {
    const p = new Participant();
    let failures = 0;
    const def = saga(p, [
      {},
      {
        retry: { maxAttempts: 3, initialDelayMs: 40, maxDelayMs: 40 },
        action: async (ctx) => {
          if (failures++ === 0) throw StepFailure.retryable('503');
          p.apply(key(ctx));
          return {};
        },
      },
    ]);
    // a backoff longer than 5 ms releases the saga; the poll claims it again when it is due
    const engine = new SagaEngine({ pool, inlineBackoffMaxMs: 5, pollIntervalMs: 20 }).register(def);
    const created = await create(engine, def.type);
    const result = created.getResult({ timeoutMs: 10_000 });
    created.dispatch();
    engine.start();
    try {
      expect(await result).toMatchObject({ state: 'COMPLETED', steps: { authorize: { attempts: 2 } } });
    } finally {
      await engine.stop();
    }
  });

  test('getResult of an unknown saga resolves undefined at once', async () => {
    const engine = new SagaEngine({ pool });
    expect(await engine.handle(crypto.randomUUID()).getResult()).toBeUndefined();
    expect(await engine.handle(crypto.randomUUID()).getStatus()).toBeUndefined();
  });
});
