import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { checkCallBudget, maxEjectedHosts, assertCallBudget, durationMs } from '../../model/call-budget.js';
import { loadPlatform, parsePlatform } from '../../model/load-platform.js';
import { ValidationErrors } from '../../model/validation-error.js';

const DIR = fileURLToPath(new URL('../fixtures/budget/', import.meta.url));
const load = (name: string) => loadPlatform(`${DIR}${name}.yaml`);

describe('checkCallBudget', () => {
  test('passes the valid fixture', () => {
    expect(checkCallBudget(load('valid'))).toEqual([]);
  });

  const failing = readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'valid.yaml')
    .map((f) => f.replace(/\.yaml$/, ''));

  test('has one failing fixture per rule', () => {
    expect(failing.sort()).toEqual(
      [
        'fallback',
        'outlier-detection',
        'per-try-timeout',
        'retry-layers',
        'retry-product',
        'timeout-nesting',
        'undeclared',
      ].sort(),
    );
  });

  const expected: Record<string, { rule: string; path: string; message: RegExp }> = {
    'retry-layers': {
      rule: 'retry-layers',
      path: 'mesh.tiers.critical.retries.on',
      message: /two retry layers on order → inventory: the code retries \(10 attempts\).*retries on 5xx too/,
    },
    'retry-product': {
      rule: 'retry-product',
      path: 'services.order.callBudgets.inventory.attempts',
      message:
        /can reach inventory 30 times \(10 attempts × 3 mesh tries\), over mesh\.maxAttemptsPerCall \(20\)/,
    },
    'timeout-nesting': {
      rule: 'timeout-nesting',
      path: 'services.catalog.callBudgets.review.timeout',
      message: /catalog's own timeout \(1s\) does not exceed .* \(300ms × 4 attempts = 1200 ms\)/,
    },
    'per-try-timeout': {
      rule: 'per-try-timeout',
      path: 'mesh.tiers.critical.retries.perTryTimeout',
      message: /inventory's mesh perTryTimeout \(3s\) outlasts order's timeout for it \(2s\)/,
    },
    fallback: {
      rule: 'fallback',
      path: 'services.catalog.calls.0',
      message:
        /critical service 'catalog' calls non-critical 'review' without a fallback; add services\.catalog\.fallbacks\.review/,
    },
    'outlier-detection': {
      rule: 'outlier-detection',
      path: 'services.review.replicas.min',
      message:
        /cannot fail fast at 1 replica: Envoy ejects up to 1 .* leaving 0 % healthy, below the panic threshold \(minHealthPercent 50\).*raise replicas\.min to 2/,
    },
    undeclared: {
      rule: 'declared',
      path: 'services.order.calls.0',
      message: /calls 'inventory' without a budget; add services\.order\.callBudgets\.inventory/,
    },
  };

  test.each(Object.keys(expected))('throws exactly one %s problem for its fixture', (name) => {
    const problems = checkCallBudget(load(name));
    const e = expected[name]!;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.rule).toBe(e.rule);
    expect(problems[0]!.path.join('.')).toBe(e.path);
    expect(problems[0]!.message).toMatch(e.message);
  });

  test('throws positioned errors: file, line and field of the value to change', () => {
    const file = `${DIR}per-try-timeout.yaml`;
    const text = readFileSync(file, 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('perTryTimeout: 3s')) + 1;
    let thrown: unknown;
    try {
      assertCallBudget(loadPlatform(file), text);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationErrors);
    const [first] = (thrown as ValidationErrors).errors;
    expect(first!.location).toMatchObject({ line, path: 'mesh.tiers.critical.retries.perTryTimeout' });
    expect(first!.message).toContain('[budget: per-try-timeout]');
    expect(first!.message).toContain("got '3s'");
  });

  test('a service’s own mesh timeouts are what its callers are checked against', () => {
    const text = readFileSync(`${DIR}valid.yaml`, 'utf8').replace(
      'mesh: { timeout: 1s, perTryTimeout: 1s }',
      'mesh: { timeout: 1s, perTryTimeout: 1500ms }',
    );
    const problems = checkCallBudget(parsePlatform(text));
    expect(problems.map((p) => [p.rule, p.path.join('.')])).toEqual([
      ['per-try-timeout', 'services.catalog.mesh.perTryTimeout'],
    ]);
  });

  test('refuses budgets and fallbacks for services not in calls', () => {
    const text = readFileSync(`${DIR}valid.yaml`, 'utf8').replace(
      "      review: 'reviews: { status: unavailable }'",
      "      review: 'reviews: { status: unavailable }'\n      order: 'nothing'",
    );
    expect(checkCallBudget(parsePlatform(text)).map((p) => p.message)).toEqual([
      "'order' is not in services.catalog.calls; add it there or remove this entry",
    ]);
  });
});

describe('maxEjectedHosts', () => {
  test.each([
    [1, 100, 1],
    [1, 10, 1], // at least one host, whatever the percentage
    [2, 50, 1],
    [2, 100, 2],
    [3, 50, 2], // ejects while below 50 %: 0 → 33 % → 67 %
    [4, 50, 2],
    [10, 10, 1],
  ])('%i hosts at maxEjectionPercent %i: %i', (hosts, percent, ejected) => {
    expect(maxEjectedHosts(hosts, percent)).toBe(ejected);
  });
});

describe('durationMs', () => {
  test('reads the schema’s duration forms', () => {
    expect([durationMs('300ms'), durationMs('2s'), durationMs('1m')]).toEqual([300, 2000, 60_000]);
  });
});
