import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { cohortRegex } from '../../charts/index.js';
import { loadPlatform, planGateway, ValidationErrors } from '../../model/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/strangler/${name}`, import.meta.url));

function gateErrors(file: string): string[] {
  try {
    planGateway(loadPlatform(file));
  } catch (err) {
    if (err instanceof ValidationErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe('route contracts gate (planGateway)', () => {
  test('routes only the public methods each service serves under its rewritten prefix', () => {
    const plan = planGateway(loadPlatform(fixture('platform.yaml')));
    expect(plan.routes.map((r) => [r.path, r.servicePath, r.weight, r.methods])).toEqual([
      ['/api/orders', '/orders', 25, ['GET', 'POST']],
      ['/api/stock', '/stock', 100, ['GET']],
    ]);
    const [own] = plan.routes[0]!.ownIdPaths;
    expect(new RegExp(own!).test('/api/orders/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(true);
    expect(new RegExp(own!).test('/api/orders/1001')).toBe(false);
    expect(plan.routes[1]!.ownIdPaths).toEqual([]);
    expect(plan.monolithOperatorOps).toContainEqual({ method: 'PUT', path: '^/api/stock/[^/]+$' });
    expect(plan.monolithOperatorOps).toContainEqual({ method: 'GET', path: '^/openapi\\.json$' });
  });

  test('refuses a route whose service does not serve the forwarded path, at the route', () => {
    const errors = gateErrors(fixture('no-rewrite.yaml'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /no-rewrite\.yaml:83:9: services\.order\.routes\[0\]: route \/api\/orders: order serves no public operation under \/api\/orders \(\/api\/orders is forwarded as is\); its public operations are \/orders, \/orders\/\{orderId\}: set 'servicePath'/,
    );
  });

  test('refuses a route that would expose an operator endpoint, and one the monolith cannot serve', () => {
    const errors = gateErrors(fixture('exposes-operator.yaml'));
    expect(errors).toContainEqual(
      expect.stringMatching(
        /:83:9: .*POST \/sagas\/\{id\}\/retry of order is not public, but the route sends every POST under \//,
      ),
    );
    expect(errors).toContainEqual(expect.stringMatching(/GET \/metrics of order is not public/));
    expect(errors).toContainEqual(
      expect.stringMatching(
        /the monolith keeps 75% of customers but its contract has no public GET \/api\/orders\/orders,/,
      ),
    );
  });
});

describe('aio synth', () => {
  test('exits 1 with the positioned gate error before synthesizing anything', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '../../lib/bin/aio.js'),
        'synth',
        '-f',
        fixture('no-rewrite.yaml'),
        '--out',
        '/nonexistent/out',
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /no-rewrite\.yaml:83:9: services\.order\.routes\[0\]: route \/api\/orders: order serves no public operation/,
    );
    expect(run.stderr).not.toMatch(/cloudformation/);
  });
});

describe('cohortRegex', () => {
  test('weight N selects exactly the buckets 0..N-1, so raising it only adds customers', () => {
    expect(cohortRegex(0)).toBeUndefined();
    expect(cohortRegex(25)).toBe('^([0-9]|1[0-9]|2[0-4])$');
    for (let n = 1; n <= 100; n++) {
      const re = new RegExp(cohortRegex(n)!);
      const selected = Array.from({ length: 100 }, (_, b) => b).filter((b) => re.test(String(b)));
      expect(selected, `weight ${n}`).toEqual(Array.from({ length: n }, (_, b) => b));
    }
  });
});
