import { describe, expect, test } from 'vitest';
import {
  diffJson,
  formatShadowReport,
  isIgnored,
  shadowReport,
  type ShadowRecord,
} from '../../cli/shadow-diff.js';

describe('shadow compare diff', () => {
  test('reports each differing leaf by its path, array indices as []', () => {
    const monolith = { id: 'm-1', total: 10, items: [{ sku: 'A', qty: 1 }], tags: ['x'] };
    const service = { id: 'ord_1', total: 12, items: [{ sku: 'A', qty: 2 }], tags: ['x'], extra: true };
    expect(diffJson(monolith, service)).toEqual([
      { field: 'extra', service: true },
      { field: 'id', monolith: 'm-1', service: 'ord_1' },
      { field: 'items[].qty', monolith: 1, service: 2 },
      { field: 'total', monolith: 10, service: 12 },
    ]);
  });

  test('ignores noisy fields by name at any depth, or by path', () => {
    const a = { id: 1, createdAt: 'a', orders: [{ id: 1, createdAt: 'a', total: 1 }] };
    const b = { id: 2, createdAt: 'b', orders: [{ id: 2, createdAt: 'b', total: 2 }] };
    expect(diffJson(a, b, ['id', 'createdAt'])).toEqual([
      { field: 'orders[].total', monolith: 1, service: 2 },
    ]);
    expect(diffJson(a, b, ['orders[].total', 'orders[].id'])).toEqual([
      { field: 'createdAt', monolith: 'a', service: 'b' },
      { field: 'id', monolith: 1, service: 2 },
      { field: 'orders[].createdAt', monolith: 'a', service: 'b' },
    ]);
    expect(isIgnored('orders[].items[].sku', ['orders'])).toBe(true);
    expect(isIgnored('orders[].total', ['total'])).toBe(true);
    expect(isIgnored('orders[].total', ['tot'])).toBe(false);
  });

  test('a different array length is one mismatch; equal values none; a type change is a leaf', () => {
    expect(diffJson({ a: [1, 2] }, { a: [1] })).toEqual([{ field: 'a[].length', monolith: 2, service: 1 }]);
    expect(diffJson({ a: { b: [1, { c: null }] } }, { a: { b: [1, { c: null }] } })).toEqual([]);
    expect(diffJson({ a: 1 }, { a: { b: 1 } })).toEqual([{ field: 'a', monolith: 1, service: { b: 1 } }]);
    expect(diffJson('x', 'y')).toEqual([{ field: '(body)', monolith: 'x', service: 'y' }]);
  });

  test('the report groups by route and field, most frequent first, with at most n samples', () => {
    const rec = (uri: string, mismatches: ShadowRecord['mismatches']): ShadowRecord => ({
      at: '2026-12-01T00:00:00Z',
      service: 'order',
      route: '/api/orders',
      method: 'GET',
      uri,
      mismatches,
    });
    const report = shadowReport(
      [
        rec('/api/orders/1', [{ field: 'total', monolith: 1, service: 2 }]),
        rec('/api/orders/2', [
          { field: 'total', monolith: 3, service: 4 },
          { field: 'status', monolith: 'NEW' },
        ]),
        rec('/api/orders/3', [{ field: 'total', monolith: 5, service: 6 }]),
        rec('/api/orders/4', []),
      ],
      2,
    );
    expect(report.compared).toBe(4);
    expect(report.mismatched).toBe(3);
    expect(report.fields.map((f) => [f.field, f.count, f.samples.length])).toEqual([
      ['total', 3, 2],
      ['status', 1, 1],
    ]);
    expect(formatShadowReport(report)).toContain(
      'order /api/orders  status: 1 mismatch\n    /api/orders/2  monolith "NEW"  service (absent)',
    );
  });
});
