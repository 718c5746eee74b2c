import { describe, expect, test } from 'vitest';
import { parsePlatform, ValidationErrors, type ValidationError } from '../../model/index.js';
import { minimalPlatform, REFERENCE_YAML } from './fixtures.js';

/** The messages `parsePlatform` throws for `text`, in order. */
function problems(text: string): string[] {
  try {
    parsePlatform(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationErrors);
    return (err as ValidationErrors).errors.map((e: ValidationError) => e.message);
  }
  throw new Error('expected the platform to be rejected');
}

describe('parsePlatform', () => {
  test('loads the reference platform with defaults applied', () => {
    const model = parsePlatform(REFERENCE_YAML);
    expect(model.name).toBe('allinone');
    expect(model.services.map((s) => s.name)).toEqual([
      'catalog',
      'inventory',
      'notification',
      'order',
      'payment',
      'review',
    ]);
    expect(model.environments.map((e) => [e.name, e.size, e.tracingStorage])).toEqual([
      ['dev', 'small', 'badger'],
      ['prod', 'ha', 'opensearch'],
    ]);
    const order = model.service('order');
    // order's own mesh timeouts replace its tier's (critical: 2 s); the rest of the tier stays
    expect(order.tierPolicy.timeout).toBe('5s');
    expect(order.tierPolicy.retries).toEqual({
      attempts: 1,
      perTryTimeout: '5s',
      on: ['connect-failure', 'reset'],
    });
    expect(model.service('inventory').tierPolicy.timeout).toBe('2s');
    expect(order.peerUrlVariables).toEqual({
      INVENTORY_URL: 'inventory',
      PAYMENT_URL: 'payment',
      CATALOG_URL: 'catalog',
    });
    expect(model.service('inventory').calledBy).toEqual(['order']);
    expect(model.service('payment').cache).toBe('none');
    expect(model.spec.mesh.mtls).toBe('strict');
  });

  test('the model is immutable', () => {
    const model = parsePlatform(REFERENCE_YAML);
    expect(() => {
      (model.service('order').routes as { weight: number }[])[0]!.weight = 99;
    }).toThrow(TypeError);
  });

  test('throws on an unknown key and suggests the nearest known key', () => {
    const text = minimalPlatform('  order:\n    owner: team-a\n    databse: postgres\n');
    expect(problems(text)).toEqual([
      "platform.yaml:12:5: services.order.databse: 'databse' is not a known key; did you mean 'database'?",
    ]);
  });

  test('throws on an unknown key with no close match by listing the known keys', () => {
    const text = minimalPlatform('  order:\n    owner: team-a\n    zzzzzzzzzzzz: 1\n');
    expect(problems(text)[0]).toMatch(
      /^platform\.yaml:12:5: services\.order\.zzzzzzzzzzzz: 'zzzzzzzzzzzz' is not a known key; known keys are 'owner', /,
    );
  });

  test('throws when a weight is out of range or not an integer', () => {
    const text = minimalPlatform(
      "  order:\n    owner: team-a\n    routes:\n      - { path: /api/orders, weight: 150 }\n      - { path: /api/carts, weight: 2.5 }\n      - { path: /api/x, weight: 'half' }\n",
    );
    expect(problems(text)).toEqual([
      'platform.yaml:13:38: services.order.routes[0].weight: must be an integer from 0 to 100, got 150',
      'platform.yaml:14:37: services.order.routes[1].weight: must be an integer from 0 to 100, got 2.5',
      "platform.yaml:15:33: services.order.routes[2].weight: must be an integer from 0 to 100, got 'half'",
    ]);
  });

  test('throws when a route path does not start with /', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    routes: [{ path: api/orders, weight: 10 }]\n',
    );
    expect(problems(text)).toEqual([
      "platform.yaml:12:22: services.order.routes[0].path: must start with '/' and use only URL path characters, got 'api/orders'",
    ]);
  });

  test('throws when two services claim the same path, trailing slash or not', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    routes: [{ path: /api/orders, weight: 10 }]\n  cart:\n    owner: team-a\n    routes: [{ path: /api/orders/, weight: 10 }]\n',
    );
    expect(problems(text)).toEqual([
      "platform.yaml:15:22: services.cart.routes[0].path: route path is already used by service 'order'; each path belongs to one service, got '/api/orders/'",
    ]);
  });

  test("throws when a service claims the monolith's catch-all '/'", () => {
    const text = minimalPlatform('  order:\n    owner: team-a\n    routes: [{ path: /, weight: 10 }]\n');
    expect(problems(text)).toEqual([
      "platform.yaml:12:22: services.order.routes[0].path: '/' is the catch-all to the legacy monolith; route a narrower prefix such as '/api/orders', got '/'",
    ]);
  });

  test('throws when calls names an unknown service or the service itself', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    calls: [order, invntory, payment, payment]\n  payment:\n    owner: team-a\n',
    );
    expect(problems(text)).toEqual([
      "platform.yaml:12:13: services.order.calls[0]: a service cannot call itself; remove this entry, got 'order'",
      "platform.yaml:12:20: services.order.calls[1]: names no service in this platform; known services are payment, and 'monolith' (the legacy monolith), got 'invntory'",
      "platform.yaml:12:39: services.order.calls[3]: is listed twice; remove the duplicate, got 'payment'",
    ]);
  });

  test("calls may name the legacy monolith (when no service is called so): a peer URL like a service's", () => {
    const model = parsePlatform(minimalPlatform('  history:\n    owner: team-a\n    calls: [monolith]\n'));
    expect(model.service('history').peerUrlVariables).toEqual({ MONOLITH_URL: 'monolith' });
  });

  test('throws on a service name that is not a DNS-1035 label and suggests one', () => {
    expect(problems(minimalPlatform('  Order_Service:\n    owner: team-a\n'))).toEqual([
      "platform.yaml:10:3: services.Order_Service: name must be a DNS-1035 label, as Kubernetes requires of a Service name: a lowercase letter first, then lowercase letters, digits and -, ending alphanumeric; try 'order-service', got 'Order_Service'",
    ]);
  });

  test('throws on a service name that starts with a digit, which Kubernetes refuses for a Service', () => {
    const text = minimalPlatform(
      '  1abc:\n    owner: team-a\n  order:\n    owner: team-a\n    calls: [2fa]\n',
    );
    const found = problems(text);
    expect(found[0]).toMatch(
      /^platform\.yaml:10:3: services\.1abc: name must be a DNS-1035 label, .*; try 'svc-1abc', got '1abc'$/,
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^platform\.yaml:14:13: services\.order\.calls\[0\]: must be a DNS-1035 label, .*, got '2fa'$/,
      ),
    );
  });

  test('accepts digits after the first letter, and platform and environment names that start with one', () => {
    const text = minimalPlatform('  review2:\n    owner: team-a\n').replace('  dev:', '  1dev:');
    expect(parsePlatform(text).services.map((s) => s.name)).toEqual(['review2']);
  });

  test('throws on a service name longer than 40 characters', () => {
    const long = 'a'.repeat(41);
    expect(problems(minimalPlatform(`  ${long}:\n    owner: team-a\n`))).toEqual([
      `platform.yaml:10:3: services.${long}: name must be at most 40 characters; try '${'a'.repeat(40)}', got '${long}'`,
    ]);
  });

  test('throws on duplicate YAML keys, so a service name is never defined twice', () => {
    const text = minimalPlatform('  order:\n    owner: team-a\n  order:\n    owner: team-b\n');
    expect(problems(text)).toEqual([
      'platform.yaml:12:3: duplicate key: each key may appear once in a mapping; merge or rename the second one',
    ]);
  });

  test('throws on YAML syntax errors with line and column', () => {
    expect(problems('platform: allinone\nservices:\n  order: { owner: team-a\n')).toEqual([
      'platform.yaml:4:1: invalid YAML: flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  test('throws on an alias to a missing anchor, and on an alias bomb, instead of crashing', () => {
    expect(problems('platform: allinone\nservices: *nope\n')).toEqual([
      "platform.yaml:2:11: invalid YAML: alias '*nope' refers to no anchor; define '&nope' before using it",
    ]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill('*' + String.fromCharCode(96 + i))
          .join(', ')}]`,
      );
    expect(problems(bomb.join('\n'))[0]).toMatch(/^platform\.yaml:1:1: invalid YAML: excessive alias count/);
  });

  test('throws when a required field is missing, pointing at the mapping that lacks it', () => {
    expect(problems(minimalPlatform('  order:\n    tier: critical\n'))).toEqual([
      'platform.yaml:11:5: services.order.owner: is required, got nothing',
    ]);
  });

  test('throws on an empty file with advice', () => {
    expect(problems('')).toEqual([
      'platform.yaml:1:1: the file is empty; start from the reference platform.yaml in the aio repo',
    ]);
  });

  test('throws on an enum typo listing the allowed values', () => {
    expect(problems(minimalPlatform('  order:\n    owner: team-a\n    tier: critcal\n'))).toEqual([
      "platform.yaml:12:11: services.order.tier: must be 'critical' or 'non-critical', got 'critcal'",
    ]);
  });

  test('throws when replicas.min exceeds replicas.max, and when env overrides a platform variable', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    replicas: { min: 5, max: 2 }\n    env: { DATABASE_URL: x, LOG_LEVEL: debug }\n',
    );
    expect(problems(text)).toEqual([
      'platform.yaml:12:30: services.order.replicas.max: must be at least replicas.min (5), got 2',
      "platform.yaml:13:26: services.order.env.DATABASE_URL: 'DATABASE_URL' is set by the platform (from database, cache and calls); remove it from env",
    ]);
  });

  test('rejects every OTEL_* variable in env: the platform configures OpenTelemetry', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    env: { OTEL_SDK_DISABLED: "true", OTEL_SERVICE_NAME: x, LOG_LEVEL: debug }\n',
    );
    expect(problems(text)).toEqual([
      "platform.yaml:12:31: services.order.env.OTEL_SDK_DISABLED: 'OTEL_SDK_DISABLED' is reserved: the platform configures OpenTelemetry (every OTEL_* variable; sampling is mesh.tracing.sampling); remove it from env",
      "platform.yaml:12:58: services.order.env.OTEL_SERVICE_NAME: 'OTEL_SERVICE_NAME' is set by the platform (from database, cache and calls); remove it from env",
    ]);
  });

  test('envFrom gives a service the value another service sets, written once', () => {
    const model = parsePlatform(
      minimalPlatform(
        [
          '  order:',
          '    owner: team-a',
          "    env: { SAGA_DEADLINE_SECONDS: '300' }",
          '    envFrom: { RESERVATION_TTL_SECONDS: inventory }',
          '  inventory:',
          '    owner: team-a',
          "    env: { RESERVATION_TTL_SECONDS: '600' }",
          '',
        ].join('\n'),
      ),
    );
    expect(model.service('order').env).toEqual({
      SAGA_DEADLINE_SECONDS: '300',
      RESERVATION_TTL_SECONDS: '600',
    });
    expect(model.service('order').envFrom).toEqual({ RESERVATION_TTL_SECONDS: 'inventory' });
  });

  test('rejects an envFrom that names no service, a variable the service does not set, or a duplicate, with positions', () => {
    const text = minimalPlatform(
      [
        '  order:',
        '    owner: team-a',
        "    env: { A: '1' }",
        '    envFrom: { RESERVATION_TTL_SECONDS: inventory, LIMIT: invntory, A: inventory, DATABASE_URL: inventory }',
        '  inventory:',
        '    owner: team-a',
        '',
      ].join('\n'),
    );
    expect(problems(text)).toEqual([
      "platform.yaml:13:41: services.order.envFrom.RESERVATION_TTL_SECONDS: services.inventory.env does not set 'RESERVATION_TTL_SECONDS'; set it there, or remove this entry, got 'inventory'",
      "platform.yaml:13:59: services.order.envFrom.LIMIT: names no service in this platform; known services are inventory, got 'invntory'",
      "platform.yaml:13:72: services.order.envFrom.A: 'A' is also set in env; keep one of the two",
      "platform.yaml:13:97: services.order.envFrom.DATABASE_URL: 'DATABASE_URL' is set by the platform (from database, cache and calls); remove it from envFrom",
    ]);
  });

  test("throws on an image tag of 'latest'", () => {
    expect(problems(minimalPlatform('  order:\n    owner: team-a\n    imageTag: latest\n'))).toEqual([
      "platform.yaml:12:15: services.order.imageTag: must not be 'latest': pin a version so deploys are repeatable, got 'latest'",
    ]);
  });

  test('reports every problem at once, sorted by position, with the file name given', () => {
    const text = minimalPlatform(
      '  order:\n    owner: team-a\n    databse: postgres\n    calls: [nope]\n    routes: [{ path: /a, weight: 101 }]\n',
    );
    let thrown: unknown;
    try {
      parsePlatform(text, { file: 'envs/platform.yaml' });
    } catch (err) {
      thrown = err;
    }
    const errors = (thrown as ValidationErrors).errors;
    expect(errors.map((e) => [e.location.line, e.location.path])).toEqual([
      [12, 'services.order.databse'],
      [13, 'services.order.calls[0]'],
      [14, 'services.order.routes[0].weight'],
    ]);
    expect(errors.every((e) => e.message.startsWith('envs/platform.yaml:'))).toBe(true);
  });
});

const noShadow = (servicePath: string) => ({ shadow: 0, shadowIgnore: [], servicePath });

describe('PlatformModel views', () => {
  test('routes() gives each migrated path its service, weight and cohort buckets, sorted, paths normalized', () => {
    const text = minimalPlatform(
      '  b:\n    owner: t\n    routes: [{ path: /api/b/, weight: 0 }, { path: /api/a, weight: 100 }]\n  c:\n    owner: t\n    routes: [{ path: /api/c, weight: 30 }]\n',
    );
    expect(parsePlatform(text).routes()).toEqual([
      {
        service: 'b',
        path: '/api/a',
        weight: 100,
        monolithWeight: 0,
        cohort: { firstBucket: 0, lastBucket: 99 },
        auth: 'customer',
        ...noShadow('/api/a'),
      },
      {
        service: 'b',
        path: '/api/b',
        weight: 0,
        monolithWeight: 100,
        auth: 'customer',
        ...noShadow('/api/b'),
      },
      {
        service: 'c',
        path: '/api/c',
        weight: 30,
        monolithWeight: 70,
        cohort: { firstBucket: 0, lastBucket: 29 },
        auth: 'customer',
        ...noShadow('/api/c'),
      },
    ]);
  });

  test('routesTable splits each path between service and monolith and ends with the catch-all', () => {
    const rows = parsePlatform(REFERENCE_YAML).routesTable();
    expect(rows.find((r) => r.path === '/api/orders')).toEqual({
      path: '/api/orders',
      service: 'order',
      servicePercent: 25,
      monolithPercent: 75,
    });
    expect(rows.at(-1)).toEqual({ path: '/', servicePercent: 0, monolithPercent: 100 });
    expect(rows.map((r) => r.path)).toEqual([
      '/api/notifications',
      '/api/orders',
      '/api/reviews',
      '/api/stock',
      '/',
    ]);
  });

  test('callGraph lists exactly the declared calls', () => {
    expect(parsePlatform(REFERENCE_YAML).callGraph()).toEqual([
      { from: 'order', to: 'catalog' },
      { from: 'order', to: 'inventory' },
      { from: 'order', to: 'payment' },
    ]);
  });

  test('service() throws naming the known services', () => {
    expect(() => parsePlatform(REFERENCE_YAML).service('cart')).toThrow(
      "no service 'cart' in platform.yaml; known services are catalog, inventory, notification, order, payment, review",
    );
  });
});
