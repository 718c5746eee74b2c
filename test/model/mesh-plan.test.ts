import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { loadPlatform, planMesh, ValidationErrors } from '../../model/index.js';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aio-mesh-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scratch platform.yaml from the fixture (contract paths made absolute), edited by `edit`. */
function scratch(name: string, edit: (yaml: string) => string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, edit(PLATFORM_FIXTURE_YAML.replaceAll('../../', root)));
  return file;
}

function meshErrors(file: string): string[] {
  try {
    planMesh(loadPlatform(file));
  } catch (err) {
    if (err instanceof ValidationErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe('planMesh', () => {
  test('grants Kong the routed public operations, order its declared calls and operators the rest', () => {
    const plan = planMesh(loadPlatform(scratch('ok', (y) => y)));
    const inventory = plan.services.find((s) => s.service === 'inventory')!;
    expect(inventory.gateway).toEqual([{ method: 'GET', path: '/stock/{sku}' }]);
    expect(Object.keys(inventory.callers)).toEqual(['order']);
    expect(inventory.callers.order!.map((o) => `${o.method} ${o.path}`)).toEqual([
      'POST /reservations',
      'POST /reservations/{orderId}/commit',
      'POST /reservations/{orderId}/release',
    ]);
    expect(inventory.operator).toContainEqual({ method: 'PUT', path: '/stock/{sku}' });
    expect(inventory.operator).toContainEqual({ method: 'GET', path: '/reservations/{orderId}' });
    expect(inventory.operator).not.toContainEqual({ method: 'GET', path: '/stock/{sku}' });
    const payment = plan.services.find((s) => s.service === 'payment')!;
    expect(payment.gateway).toEqual([]);
  });

  test('rejects a calls entry whose caller declares no operation on it, at the entry', () => {
    const file = scratch('undeclared', (y) =>
      y.replace('calls: [inventory, payment, catalog]', 'calls: [inventory, payment, catalog, review]'),
    );
    const errors = meshErrors(file);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /undeclared\.yaml:\d+:\d+: services\.order\.calls\[3\]: order calls review, but its route contract declares no review operation \('x-aio-calls'\)/,
    );
  });

  test('rejects a declared call to a service calls does not name, and one the callee does not serve', () => {
    const contract = JSON.parse(readFileSync(join(root, 'services/order/openapi.json'), 'utf8'));
    contract['x-aio-calls'].push(
      { service: 'review', method: 'GET', path: '/reviews' },
      { service: 'inventory', method: 'DELETE', path: '/stock/{sku}' },
    );
    const contractFile = join(dir, 'order.openapi.json');
    writeFileSync(contractFile, JSON.stringify(contract));
    const file = scratch('extra', (y) =>
      y.replace(`contract: ${root}services/order/openapi.json`, `contract: ${contractFile}`),
    );
    const errors = meshErrors(file);
    expect(errors).toContainEqual(
      expect.stringMatching(
        /services\.order\.calls: order's route contract declares GET \/reviews on review, but 'calls' does not name review/,
      ),
    );
    expect(errors).toContainEqual(
      expect.stringMatching(
        /services\.order\.calls\[0\]: order declares DELETE \/stock\/\{sku\} on inventory, which inventory's route contract does not have/,
      ),
    );
    expect(errors).toHaveLength(2);
  });
});
