import { describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { cohortShare, formatRoutesTable, routesCommand } from '../../cli/routes.js';
import { parsePlatform } from '../../model/index.js';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { minimalPlatform } from '../model/fixtures.js';

describe('aio routes', () => {
  test("shows each route's split and cohort share: weight N is buckets 0..N-1, N % of customers", async () => {
    const io = memoryIo();
    expect(await routesCommand(io, { file: PLATFORM_FIXTURE_FILE })).toBe(0);
    const out = io.stdout.join('\n');
    expect(out.split('\n')[0]).toMatch(
      /^PATH\s+SERVICE\s+NEW\s+MONOLITH\s+COHORT \(customers to the service\)$/,
    );
    expect(out).toMatch(/\/api\/orders\s+order\s+25%\s+75%\s+buckets 0-24 \(25% of customers\)\n/);
    expect(out).toMatch(/\/api\/stock\s+inventory\s+100%\s+0%\s+buckets 0-99 \(all customers\)\n/);
    expect(out).toMatch(/\/ \(everything else\)\s+monolith\s+0%\s+100%\s+none$/);
  });

  test('a route at weight 0 selects no customer', () => {
    const model = parsePlatform(
      minimalPlatform('  a:\n    owner: t\n    routes: [{ path: /api/a, weight: 0 }]\n'),
    );
    expect(cohortShare(model.routes()[0]!)).toBe('none');
    expect(formatRoutesTable(model.routes())).toMatch(/\/api\/a\s+a\s+0%\s+100%\s+none\n/);
  });

  test('--json prints the table rows the PR summary compares, the catch-all last', async () => {
    const io = memoryIo();
    await routesCommand(io, { file: PLATFORM_FIXTURE_FILE, json: true });
    const rows = JSON.parse(io.stdout.join('\n')) as unknown[];
    expect(rows).toContainEqual({
      path: '/api/orders',
      service: 'order',
      servicePercent: 25,
      monolithPercent: 75,
    });
    expect(rows.at(-1)).toEqual({ path: '/', servicePercent: 0, monolithPercent: 100 });
  });
});
