import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parseConfig } from '@aio/kit';
import type { RunningService } from '@aio/kit';
import { callJson, createTestDatabase } from '@aio/kit/testing';
import type { JsonResponse, TestDatabase } from '@aio/kit/testing';
import { paymentConfigSchema } from '../src/config.js';
import type { PaymentConfig } from '../src/config.js';
import { SimulatorPsp } from '../src/psp.js';
import type { AuthorizeRequest, AuthorizeResult, PaymentProvider } from '../src/psp.js';
import { startPayment } from '../src/service.js';

// The write path without a transaction across the PSP call: races, resumption and statement counts,
// against a real Postgres. Only the PSP is simulated: the simulator, with gates that hold a call at
// the PSP until the test releases it, and failures the test injects.

interface PaymentBody {
  readonly orderId: string;
  readonly status: string | number;
  readonly reason?: string;
  readonly captures?: number;
}

interface Gate {
  arrivals: number;
  readonly waiters: { n: number; resolve: () => void }[];
  readonly released: Promise<void>;
  readonly release: () => void;
}

/** The simulator's answers, with gates and failures; every call is recorded. */
class GatedPsp implements PaymentProvider {
  /** Every call, in order: `authorize:<orderId>`, `capture:<reference>`, `void:<reference>`. */
  readonly calls: string[] = [];
  /** Calls that fail once, keyed like {@link calls}. */
  readonly failOnce = new Set<string>();
  private readonly gates = new Map<string, Gate>();
  private readonly simulator = new SimulatorPsp();

  /** Holds every call with this key at the PSP until `release`; `arrived(n)` resolves once n are held. */
  hold(key: string): { arrived: (n?: number) => Promise<void>; release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const gate: Gate = { arrivals: 0, waiters: [], released, release };
    this.gates.set(key, gate);
    return {
      arrived: (n = 1) =>
        new Promise<void>((resolve) => {
          if (gate.arrivals >= n) resolve();
          else gate.waiters.push({ n, resolve });
        }),
      release: () => {
        this.gates.delete(key);
        gate.release();
      },
    };
  }

  /** Lets every held call go (after a failed test, so its requests end). */
  releaseAll(): void {
    for (const gate of this.gates.values()) gate.release();
    this.gates.clear();
  }

  callCount(key: string): number {
    return this.calls.filter((c) => c === key).length;
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    await this.enter(`authorize:${request.orderId}`);
    return this.simulator.authorize(request);
  }

  async capture(reference: string): Promise<void> {
    await this.enter(`capture:${reference}`);
  }

  async void(reference: string): Promise<void> {
    await this.enter(`void:${reference}`);
  }

  private async enter(key: string): Promise<void> {
    this.calls.push(key);
    const gate = this.gates.get(key);
    if (gate) {
      gate.arrivals++;
      for (const w of gate.waiters) if (gate.arrivals >= w.n) w.resolve();
      await gate.released;
    }
    if (this.failOnce.delete(key)) throw new Error(`PSP unreachable (${key})`);
  }
}

let db: TestDatabase;
let service: RunningService<PaymentConfig>;
let psp: GatedPsp;

beforeAll(async () => {
  db = await createTestDatabase('payment_write_path');
  const config = parseConfig(paymentConfigSchema, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  psp = new GatedPsp();
  service = await startPayment(config, false, psp);
  recordStatements(service.pool);
});

afterAll(async () => {
  await service?.close();
  await db?.drop();
});

beforeEach(() => {
  psp.calls.length = 0;
});

afterEach(() => {
  psp.releaseAll();
  psp.failOnce.clear();
});

function call(method: string, path: string, body?: unknown): Promise<JsonResponse<PaymentBody>> {
  return callJson<PaymentBody>(service.url, method, path, body);
}

const pay = (orderId: string, paymentToken = 'tok_visa', amount = 20) => ({
  orderId,
  customerId: 'c-1',
  amount,
  currency: 'EUR',
  paymentToken,
});

/** Ledger rows of an order, in order: `KIND` or `KIND:<psp_reference>`. */
async function ledger(orderId: string): Promise<string[]> {
  const { rows } = await service.pool.query<{ kind: string; psp_reference: string | null }>(
    'SELECT kind, psp_reference FROM payment_ledger WHERE order_id = $1 ORDER BY id',
    [orderId],
  );
  return rows.map((r) => (r.psp_reference ? `${r.kind}:${r.psp_reference}` : r.kind));
}

async function reference(orderId: string): Promise<string> {
  const { rows } = await service.pool.query<{ psp_reference: string }>(
    'SELECT psp_reference FROM payments WHERE order_id = $1',
    [orderId],
  );
  return rows[0]!.psp_reference;
}

async function status(orderId: string): Promise<unknown> {
  return (await call('GET', `/payments/${orderId}`)).body.status;
}

/** Statements sent by any of the service's pooled clients while {@link counted} runs. */
let sent: string[] | undefined;
const wrapped = new WeakSet<object>();

function recordStatements(pool: RunningService<PaymentConfig>['pool']): void {
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query;
    client.query = ((...args: unknown[]) => {
      const first = args[0] as string | { text: string };
      sent?.push(typeof first === 'string' ? first : first.text);
      return (query as (...a: unknown[]) => unknown).apply(client, args);
    }) as typeof query;
  });
}

/** The statements the service sends during `fn`, and how many of them open a transaction. */
async function counted(fn: () => Promise<unknown>): Promise<{ statements: number; transactions: number }> {
  sent = [];
  try {
    await fn();
    return { statements: sent.length, transactions: sent.filter((q) => /^\s*BEGIN/i.test(q)).length };
  } finally {
    sent = undefined;
  }
}

describe('statements per operation', () => {
  test('authorize, capture and void cost 2 autocommit statements each, replays 1', async () => {
    const expectCost = async (fn: () => Promise<unknown>, statements: number) =>
      expect(await counted(fn)).toEqual({ statements, transactions: 0 });
    await expectCost(
      async () => expect((await call('POST', '/payments', pay('cost-1'))).status).toBe(201),
      2,
    );
    await expectCost(
      async () => expect((await call('POST', '/payments', pay('cost-1'))).status).toBe(201),
      1,
    );
    await expectCost(
      async () =>
        expect((await call('POST', '/payments', pay('cost-2', 'tok_chargeDeclined'))).status).toBe(402),
      2,
    );
    await expectCost(
      async () => expect((await call('POST', '/payments/cost-1/capture')).status).toBe(200),
      2,
    );
    await expectCost(
      async () => expect((await call('POST', '/payments/cost-1/capture')).status).toBe(200),
      1,
    );
    await call('POST', '/payments', pay('cost-3'));
    await expectCost(async () => expect((await call('POST', '/payments/cost-3/void')).status).toBe(200), 2);
    await expectCost(async () => expect((await call('POST', '/payments/cost-4/void')).status).toBe(200), 1);
    expect(await ledger('cost-1')).toEqual([
      `AUTHORIZE:${await reference('cost-1')}`,
      `CAPTURE:${await reference('cost-1')}`,
    ]);
  });
});

describe('a void during an in-flight authorize', () => {
  test('wins: the authorizes in flight void their PSP authorization and answer 409 VOIDED', async () => {
    const gate = psp.hold('authorize:race-1');
    const first = call('POST', '/payments', pay('race-1'));
    await gate.arrived(1);
    // duplicates that find the row PENDING resume: they call the PSP with the same key too
    const duplicates = [1, 2].map(() => call('POST', '/payments', pay('race-1')));
    await gate.arrived(3);
    expect(await status('race-1')).toBe('PENDING');

    expect(await call('POST', '/payments/race-1/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect(await status('race-1')).toBe('VOIDED');
    expect(await call('POST', '/payments/race-1/capture')).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    gate.release();

    for (const r of await Promise.all([first, ...duplicates]))
      expect(r).toMatchObject({ status: 409, body: { orderId: 'race-1', status: 'VOIDED' } });
    const ref = await reference('race-1');
    expect(ref).toMatch(/^sim_auth_/);
    expect(psp.callCount(`void:${ref}`)).toBeGreaterThanOrEqual(1);
    expect(await ledger('race-1')).toEqual([`AUTHORIZE:${ref}`, `VOID:${ref}`]);
    expect(await status('race-1')).toBe('VOIDED');

    // a replay gets the same answer without another PSP call, a repeated void changes nothing
    psp.calls.length = 0;
    expect(await call('POST', '/payments', pay('race-1'))).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    expect(await call('POST', '/payments/race-1/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    expect(psp.calls).toEqual([]);
    expect(await ledger('race-1')).toHaveLength(2);
  });

  test('wins over a decline too: 409 VOIDED, the decline recorded once', async () => {
    const gate = psp.hold('authorize:race-2');
    const first = call('POST', '/payments', pay('race-2', 'tok_chargeDeclined'));
    await gate.arrived();
    expect(await call('POST', '/payments/race-2/void')).toMatchObject({ status: 200 });
    gate.release();
    expect(await first).toMatchObject({ status: 409, body: { status: 'VOIDED' } });
    expect(psp.calls.filter((c) => c.startsWith('void:'))).toEqual([]);
    expect(await ledger('race-2')).toEqual(['DECLINE']);
    expect((await call('GET', '/payments/race-2')).body).toMatchObject({
      status: 'VOIDED',
      reason: 'card_declined',
    });
  });
});

describe('a crash after the PENDING claim', () => {
  test('leaves the row PENDING; a retry resumes it with the same PSP key and finishes once', async () => {
    psp.failOnce.add('authorize:crash-1');
    expect((await call('POST', '/payments', pay('crash-1'))).status).toBe(500);
    expect(await status('crash-1')).toBe('PENDING');
    expect(await ledger('crash-1')).toEqual([]);

    // the PENDING row is still the idempotency record: other details are refused
    expect((await call('POST', '/payments', pay('crash-1', 'tok_visa', 21))).status).toBe(422);
    const retries = await Promise.all([1, 2, 3].map(() => call('POST', '/payments', pay('crash-1'))));
    for (const r of retries) expect(r).toMatchObject({ status: 201, body: { status: 'AUTHORIZED' } });
    expect(psp.callCount('authorize:crash-1')).toBeGreaterThanOrEqual(2);
    expect(await ledger('crash-1')).toEqual([`AUTHORIZE:${await reference('crash-1')}`]);
    expect(await call('POST', '/payments/crash-1/capture')).toMatchObject({ status: 200 });
  });

  test('a void of the PENDING row left behind refuses the retry without a PSP call', async () => {
    psp.failOnce.add('authorize:crash-2');
    expect((await call('POST', '/payments', pay('crash-2'))).status).toBe(500);
    expect(await call('POST', '/payments/crash-2/void')).toMatchObject({
      status: 200,
      body: { status: 'VOIDED' },
    });
    psp.calls.length = 0;
    expect(await call('POST', '/payments', pay('crash-2'))).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    expect(psp.calls).toEqual([]);
    expect(await ledger('crash-2')).toEqual([]);
  });

  test('a capture left CAPTURING by a PSP error is finished by the retry, and refuses a void meanwhile', async () => {
    await call('POST', '/payments', pay('crash-3'));
    const ref = await reference('crash-3');
    psp.failOnce.add(`capture:${ref}`);
    expect((await call('POST', '/payments/crash-3/capture')).status).toBe(500);
    expect(await status('crash-3')).toBe('CAPTURING');
    expect(await call('POST', '/payments/crash-3/void')).toMatchObject({
      status: 409,
      body: { status: 'CAPTURED' },
    });
    expect(await call('POST', '/payments/crash-3/capture')).toMatchObject({
      status: 200,
      body: { status: 'CAPTURED' },
    });
    expect((await call('GET', '/payments/crash-3')).body).toMatchObject({ status: 'CAPTURED', captures: 1 });
    expect(await ledger('crash-3')).toEqual([`AUTHORIZE:${ref}`, `CAPTURE:${ref}`]);
  });
});

describe('concurrent duplicates while the first is at the PSP', () => {
  test.each([
    ['tok_visa', 201, 'AUTHORIZED', 'AUTHORIZE'],
    ['tok_insufficientFunds', 402, 'DECLINED', 'DECLINE'],
  ])('authorize (%s): one ledger row, every caller gets %i', async (token, code, outcome, kind) => {
    const orderId = `slow-${token}`;
    const gate = psp.hold(`authorize:${orderId}`);
    const first = call('POST', '/payments', pay(orderId, token));
    await gate.arrived();
    const duplicates = Array.from({ length: 8 }, () => call('POST', '/payments', pay(orderId, token)));
    await gate.arrived(9);
    gate.release();
    for (const r of await Promise.all([first, ...duplicates]))
      expect(r).toMatchObject({ status: code, body: { orderId, status: outcome } });
    const rows = await ledger(orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.split(':')[0]).toBe(kind);
    expect(await status(orderId)).toBe(outcome);
  });

  test('capture: captured once while a void meanwhile is refused', async () => {
    await call('POST', '/payments', pay('slow-cap'));
    const ref = await reference('slow-cap');
    const gate = psp.hold(`capture:${ref}`);
    const first = call('POST', '/payments/slow-cap/capture');
    await gate.arrived();
    const duplicates = Array.from({ length: 5 }, () => call('POST', '/payments/slow-cap/capture'));
    await gate.arrived(6);
    expect(await call('POST', '/payments/slow-cap/void')).toMatchObject({
      status: 409,
      body: { status: 'CAPTURED' },
    });
    gate.release();
    for (const r of await Promise.all([first, ...duplicates]))
      expect(r).toMatchObject({ status: 200, body: { status: 'CAPTURED' } });
    expect((await call('GET', '/payments/slow-cap')).body).toMatchObject({ status: 'CAPTURED', captures: 1 });
    expect(await ledger('slow-cap')).toEqual([`AUTHORIZE:${ref}`, `CAPTURE:${ref}`]);
    expect(psp.calls.filter((c) => c.startsWith('void:'))).toEqual([]);
  });

  test('void: voided once while a capture meanwhile is refused', async () => {
    await call('POST', '/payments', pay('slow-void'));
    const ref = await reference('slow-void');
    const gate = psp.hold(`void:${ref}`);
    const first = call('POST', '/payments/slow-void/void');
    await gate.arrived();
    const duplicate = call('POST', '/payments/slow-void/void');
    await gate.arrived(2);
    expect(await status('slow-void')).toBe('VOIDING');
    expect(await call('POST', '/payments/slow-void/capture')).toMatchObject({
      status: 409,
      body: { status: 'VOIDED' },
    });
    gate.release();
    for (const r of await Promise.all([first, duplicate]))
      expect(r).toMatchObject({ status: 200, body: { status: 'VOIDED' } });
    expect(await ledger('slow-void')).toEqual([`AUTHORIZE:${ref}`, `VOID:${ref}`]);
    expect(psp.calls.filter((c) => c.startsWith('capture:'))).toEqual([]);
    // authorize's answer stays what it was
    expect(await call('POST', '/payments', pay('slow-void'))).toMatchObject({ status: 201 });
  });
});

describe('SimulatorPsp', () => {
  test('is idempotent per orderId like a real PSP: a repeated authorization returns the same reference', async () => {
    const sim = new SimulatorPsp();
    const request = { orderId: 'sim-1', amountMinor: 100, currency: 'EUR', paymentToken: 'tok_visa' };
    const a = await sim.authorize(request);
    expect(a).toMatchObject({ approved: true });
    expect(await sim.authorize(request)).toEqual(a);
    expect(await sim.authorize({ ...request, orderId: 'sim-2' })).not.toEqual(a);
  });
});
