import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FeedEvent } from '@aio/kit';
import { readFeedUntil } from '@aio/kit/testing';
import { startHarness, type InventoryHarness } from './harness.js';

let h: InventoryHarness;

beforeAll(async () => {
  h = await startHarness('inventory_events');
  expect((await h.call('PUT', '/stock/EV-A', { available: 5 })).status).toBe(200);
});

afterAll(async () => {
  await h?.stop();
});

const of = (events: readonly FeedEvent[], orderId: string) =>
  events.filter((e) => e.aggregateId === orderId).map((e) => [e.sequence, e.type]);

describe('reservation events', () => {
  test('the ledger function records each transition once, with the ledger rows, under duplicates', async () => {
    const items = [{ sku: 'EV-A', quantity: 2 }];
    await Promise.all(
      Array.from({ length: 8 }, () => h.call('POST', '/reservations', { orderId: 'r-1', items })),
    );
    await Promise.all(Array.from({ length: 8 }, () => h.call('POST', '/reservations/r-1/commit')));
    await h.call('POST', '/reservations', { orderId: 'r-2', items });
    await h.call('POST', '/reservations/r-2/release');
    await h.call('POST', '/reservations', { orderId: 'r-3', items: [{ sku: 'EV-A', quantity: 50 }] });

    const events = await readFeedUntil(h.service.url, (e) => of(e, 'r-3').length > 0);
    expect(of(events, 'r-1')).toEqual([
      [1, 'reservation.reserved'],
      [2, 'reservation.committed'],
    ]);
    expect(of(events, 'r-2')).toEqual([
      [1, 'reservation.reserved'],
      [2, 'reservation.released'],
    ]);
    expect(of(events, 'r-3')).toEqual([[1, 'reservation.rejected']]);
    expect(events.find((e) => e.aggregateId === 'r-1' && e.sequence === 2)).toMatchObject({
      aggregateType: 'reservation',
      payload: { orderId: 'r-1', status: 'COMMITTED', items },
    });
    // exactly as many transitions in the events as in the ledger's entries for r-1: RESERVE, COMMIT
    const { rows } = await h.service.pool.query(
      "SELECT kind FROM stock_ledger WHERE order_id = 'r-1' ORDER BY id",
    );
    expect(rows.map((r) => r.kind)).toEqual(['RESERVE', 'COMMIT']);
  });
});
