import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../logger.js';
import { ServiceMetrics } from '../metrics/index.js';
import { ensureSagaSchema } from '../saga/private/saga-store.js';
import { defineSaga } from '../saga/saga-definition.js';
import { SagaEngine } from '../saga/saga-engine.js';
import { createServer } from '../server.js';
import { createTestDatabase, type TestDatabase } from '../testing/index.js';
import { readFeed, waitForFeed, type FeedEvent } from './event-feed.js';
import { readFeedHoldback } from './feed-holdback.js';
import { serveEventFeed } from './feed-routes.js';
import { recordEvents, withEvents, type OutboxEvent } from './outbox-event.js';
import { compactOutbox } from './outbox-retention.js';
import { OUTBOX_SCHEMA_SQL } from './outbox-schema.js';

let db: TestDatabase;
let pool: pg.Pool;
let n = 0;

beforeAll(async () => {
  db = await createTestDatabase('outbox_feed');
  pool = new pg.Pool({ connectionString: db.url, max: 20 });
  pool.on('error', () => undefined);
  await pool.query(OUTBOX_SCHEMA_SQL);
  await pool.query(OUTBOX_SCHEMA_SQL); // idempotent
  await pool.query('CREATE TABLE thing (id text PRIMARY KEY, status text NOT NULL)');
  await ensureSagaSchema(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const event = (aggregateId: string, type = 'thing.changed', payload: unknown = {}): OutboxEvent => ({
  aggregateType: 'thing',
  aggregateId,
  type,
  payload,
});

/** Everything the feed serves from `after` on, waiting (up to 15 s) until `until` holds. */
async function drain(after: string, until: (seen: FeedEvent[]) => boolean): Promise<FeedEvent[]> {
  const seen: FeedEvent[] = [];
  let cursor = after;
  const deadline = Date.now() + 15_000;
  while (!until(seen) && Date.now() < deadline) {
    const page = await waitForFeed(pool, { after: cursor, waitMs: 500, pollMs: 20 });
    seen.push(...page.events);
    cursor = page.next;
  }
  return seen;
}

async function head(): Promise<string> {
  let cursor = '0';
  for (;;) {
    const page = await readFeed(pool, cursor, 1000);
    if (page.events.length === 0) return cursor;
    cursor = page.next;
  }
}

describe('gap-safe feed', () => {
  test('never skips an event whose transaction took an earlier position and committed later', async () => {
    const start = await head();
    const naiveStart = (
      await pool.query<{ p: string }>('SELECT coalesce(max(position), 0) AS p FROM kit_outbox')
    ).rows[0]!.p;
    const early = await pool.connect();
    const late = await pool.connect();
    const tag = `gap-${++n}`;
    try {
      await early.query('BEGIN');
      await recordEvents(early, [event(`${tag}-early`)]); // takes the smaller position and xact id
      await late.query('BEGIN');
      await recordEvents(late, [event(`${tag}-late`)]);
      await late.query('COMMIT'); // the later position commits first

      // a naive reader (position > cursor) sees the later row now and moves its cursor past the earlier one
      const naive = await pool.query<{ position: string; aggregate_id: string }>(
        'SELECT position, aggregate_id FROM kit_outbox WHERE position > $1 ORDER BY position',
        [naiveStart],
      );
      expect(naive.rows.map((r) => r.aggregate_id)).toEqual([`${tag}-late`]);
      const naiveCursor = naive.rows.at(-1)!.position;
      // the gap-safe feed serves neither while the earlier transaction is open
      const held = await readFeed(pool, start);
      expect(held.events.map((e) => e.aggregateId)).not.toContain(`${tag}-late`);

      await early.query('COMMIT');
      const afterNaive = await pool.query('SELECT aggregate_id FROM kit_outbox WHERE position > $1', [
        naiveCursor,
      ]);
      expect(afterNaive.rows).toEqual([]); // regression guard: the naive reader lost the early event

      const seen = await drain(start, (s) => s.some((e) => e.aggregateId === `${tag}-late`));
      const ids = seen.map((e) => e.aggregateId).filter((id) => id.startsWith(tag));
      expect(ids.sort()).toEqual([`${tag}-early`, `${tag}-late`]);
    } finally {
      early.release();
      late.release();
    }
  });

  test('serves every committed event exactly once to a reader running alongside 40 writers', async () => {
    const start = await head();
    const tag = `load-${++n}`;
    const writers = Array.from({ length: 40 }, async (_, i) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await recordEvents(c, [event(`${tag}-${i}`)]);
        await new Promise((r) => setTimeout(r, (i * 37) % 60)); // commit in another order than the positions
        await c.query(i % 5 === 0 ? 'ROLLBACK' : 'COMMIT');
      } finally {
        c.release();
      }
    });
    const reading = drain(start, (s) => s.filter((e) => e.aggregateId.startsWith(tag)).length >= 32);
    await Promise.all(writers);
    const seen = (await reading).filter((e) => e.aggregateId.startsWith(tag)).map((e) => e.aggregateId);
    const committed = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => i % 5 !== 0)
      .map((i) => `${tag}-${i}`);
    expect([...seen].sort()).toEqual(committed.sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('rejects a malformed cursor', async () => {
    await expect(readFeed(pool, '12')).rejects.toThrow(
      'feed cursor: must be 0 or <xact id>.<position>, got "12"',
    );
  });
});

describe('recording events', () => {
  test('numbers each aggregate 1, 2, 3... under concurrent writers, with no duplicate and no gap', async () => {
    const id = `seq-${++n}`;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        recordEvents(pool, i % 3 === 0 ? [event(id, 'a'), event(id, 'b')] : [event(id, 'c')]),
      ),
    );
    const { rows } = await pool.query<{ sequence: string }>(
      'SELECT sequence FROM kit_outbox WHERE aggregate_id = $1 ORDER BY sequence',
      [id],
    );
    expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  test('kit_record_event (for PL/pgSQL producers) shares the sequence with recordEvents', async () => {
    const id = `fn-${++n}`;
    await recordEvents(pool, [event(id, 'a')]);
    const { rows } = await pool.query(
      "SELECT kit_record_event('thing', $1, 'b', 2, '{\"k\": 1}'::jsonb)::int AS sequence",
      [id],
    );
    expect(rows).toEqual([{ sequence: 2 }]);
    const page = await drain('0', (s) => s.some((e) => e.aggregateId === id && e.sequence === 2));
    expect(page.find((e) => e.aggregateId === id && e.sequence === 2)).toMatchObject({
      type: 'b',
      schemaVersion: 2,
      payload: { k: 1 },
    });
  });

  test('withEvents records the events only when the business statement returned a row', async () => {
    const id = `with-${++n}`;
    const insert = (status: string) =>
      withEvents(
        {
          sql: 'INSERT INTO thing (id, status) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
          params: [id, status],
        },
        [event(id, 'thing.created', { status })],
      );
    const first = insert('NEW');
    expect((await pool.query(first.sql, [...first.params])).rows).toEqual([{ id }]);
    const again = insert('OTHER');
    expect((await pool.query(again.sql, [...again.params])).rows).toEqual([]);
    const { rows } = await pool.query(
      'SELECT event_type, payload, sequence::int FROM kit_outbox WHERE aggregate_id = $1',
      [id],
    );
    expect(rows).toEqual([{ event_type: 'thing.created', payload: { status: 'NEW' }, sequence: 1 }]);
  });

  test('a saga created with createWith records its business events in the same statement, and none on a conflict', async () => {
    const engine = new SagaEngine({ pool, logger: createLogger({ name: 't', level: 'silent' }) });
    engine.register(defineSaga({ type: `outbox-saga-${++n}`, version: 1, steps: [] }));
    const type = `outbox-saga-${n}`;
    const id = `saga-${n}`;
    const business = {
      sql: 'INSERT INTO thing (id, status) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
      params: [id, 'PENDING'],
      events: [event(id, 'thing.placed')],
    };
    expect(await engine.createWith(pool, business, type, {})).toBeDefined();
    expect(await engine.createWith(pool, business, type, {})).toBeUndefined();
    const { rows } = await pool.query('SELECT event_type FROM kit_outbox WHERE aggregate_id = $1', [id]);
    expect(rows).toEqual([{ event_type: 'thing.placed' }]);
  });
});

describe('readFeedHoldback', () => {
  test('an open transaction raises the stall measure, and its end lowers it', async () => {
    const open = await pool.connect();
    const tag = `stall-${++n}`;
    try {
      await open.query('BEGIN');
      await recordEvents(open, [event(`${tag}-open`)]);
      await recordEvents(pool, [event(`${tag}-committed`)]); // committed, but above the xmin
      await new Promise((r) => setTimeout(r, 1200));
      const stalled = await readFeedHoldback(pool);
      expect(stalled.heldEvents).toBeGreaterThanOrEqual(1);
      expect(stalled.heldSeconds).toBeGreaterThanOrEqual(1);
      expect(stalled.oldestTransactionSeconds).toBeGreaterThanOrEqual(1);
      // the same figure as the Prometheus gauge a producer's GET /metrics serves
      const metrics = new ServiceMetrics({ defaultMetrics: false });
      const app = createServer({ logger: createLogger({ name: 'stall', level: 'silent' }) });
      serveEventFeed({ app, pool, logger: app.log as never, metrics, onClose: () => undefined });
      const held = /^aio_outbox_feed_held_seconds ([0-9.e+-]+)$/m.exec(await metrics.text());
      expect(Number(held?.[1])).toBeGreaterThanOrEqual(1);
      await app.close();
      await open.query('COMMIT');
      // other engineers' transactions share this server: wait until ours is no longer the cause
      let after = await readFeedHoldback(pool);
      for (let i = 0; i < 50 && after.heldSeconds >= 1; i++) {
        await new Promise((r) => setTimeout(r, 200));
        after = await readFeedHoldback(pool);
      }
      expect(after.heldSeconds).toBeLessThan(1);
    } finally {
      open.release();
    }
  });
});

describe('compactOutbox', () => {
  test('deletes superseded events past the retention window and keeps the newest of each aggregate', async () => {
    const a = `compact-a-${++n}`;
    const b = `compact-b-${n}`;
    await recordEvents(pool, [event(a, 'v1'), event(a, 'v2'), event(b, 'only')]);
    await recordEvents(pool, [event(a, 'v3')]);
    expect(await compactOutbox(pool, { retainMs: 3_600_000 })).toBe(0); // all inside the window
    await new Promise((r) => setTimeout(r, 20));
    const kept = () =>
      pool
        .query<{ aggregate_id: string; event_type: string }>(
          'SELECT aggregate_id, event_type FROM kit_outbox WHERE aggregate_id = ANY($1) ORDER BY aggregate_id, sequence',
          [[a, b]],
        )
        .then((r) => r.rows);
    // only rows the feed already serves are compacted: on a shared server, another open transaction may delay that
    for (let i = 0; i < 75 && (await kept()).length > 2; i++) {
      await compactOutbox(pool, { retainMs: 1, batch: 1 });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await kept()).toEqual([
      { aggregate_id: a, event_type: 'v3' },
      { aggregate_id: b, event_type: 'only' },
    ]);
    await recordEvents(pool, [event(a, 'v4')]);
    const { rows: seq } = await pool.query(
      'SELECT max(sequence)::int AS s FROM kit_outbox WHERE aggregate_id = $1',
      [a],
    );
    expect(seq).toEqual([{ s: 4 }]); // sequences continue after compaction
  });
});

describe('GET /events', () => {
  test('serves pages, long-polls until an event commits, and answers 400 for bad parameters', async () => {
    const logger = createLogger({ name: 'feed-test', level: 'silent' });
    const app = createServer({ logger });
    const closers: Array<() => unknown> = [];
    serveEventFeed({ app, pool, logger, onClose: (h) => void closers.push(h) }, { pollMs: 20 });
    await app.ready();
    try {
      const start = await head();
      const tag = `route-${++n}`;
      const polling = app.inject({ method: 'GET', url: `/events?after=${start}&waitMs=10000` });
      await new Promise((r) => setTimeout(r, 100));
      await recordEvents(pool, [event(tag, 'thing.routed', { x: 1 })]);
      const res = await polling;
      expect(res.statusCode).toBe(200);
      const body = res.json<{ events: FeedEvent[]; next: string }>();
      const mine = body.events.find((e) => e.aggregateId === tag);
      expect(mine).toMatchObject({
        aggregateType: 'thing',
        type: 'thing.routed',
        sequence: 1,
        payload: { x: 1 },
      });
      expect(body.next).toBe(body.events.at(-1)!.cursor);

      for (const url of [
        '/events?after=abc',
        '/events?limit=0',
        '/events?waitMs=40000',
        '/events?limit=1.5',
        '/events?x=1',
      ]) {
        const bad = await app.inject({ method: 'GET', url });
        expect(bad.statusCode, url).toBe(400);
        expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      // a long-poll ends at shutdown instead of holding the drain
      const waiting = app.inject({ method: 'GET', url: `/events?after=${body.next}&waitMs=30000` });
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await app.close();
      expect((await waiting).statusCode).toBe(200);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      for (const h of closers) await h();
      await app.close();
    }
  });
});
