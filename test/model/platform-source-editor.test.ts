import { describe, expect, test } from 'vitest';
import { parsePlatform } from '../../model/index.js';
import { isStaleSplitComment, PlatformSourceEditor } from '../../model/platform-source-editor.js';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

const lines = (...l: string[]) => l.join('\n') + '\n';

/** A services block with every shape of routes list the editor meets. */
const SHAPES = lines(
  'services:',
  '  a:', // block list of flow mappings
  '    owner: o # the owner',
  '    routes:',
  '      - { path: /a1, weight: 1 }',
  '      - { path: /a2, weight: 2 } # 2% for now',
  '      - path: /a3',
  '        weight: 3',
  '    port: 8080',
  '  b: { owner: o, routes: [{ path: /b1, weight: 1 }, { path: /b2, weight: 2 }, { path: /b3, weight: 3 }] }',
  '  c:',
  '    owner: o',
  '    routes: []',
  '  d:',
  '    owner: o',
  '  e: { owner: o }',
  '# the end',
);

describe('PlatformSourceEditor', () => {
  test('sets a weight and changes no other byte of the reference fixture', () => {
    const editor = new PlatformSourceEditor(PLATFORM_FIXTURE_YAML);
    editor.setRouteWeight('inventory', '/api/stock/', 40);
    expect(editor.text).toBe(
      PLATFORM_FIXTURE_YAML.replace(
        '- { path: /api/stock, servicePath: /stock, weight: 100, auth: public }',
        '- { path: /api/stock, servicePath: /stock, weight: 40, auth: public }',
      ),
    );
    expect(parsePlatform(editor.text).service('inventory').routes).toEqual([
      { path: '/api/stock', servicePath: '/stock', weight: 40, auth: 'public' },
    ]);
  });

  test('removes a comment beside the weight that states the old split, and says so', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    expect(editor.setRouteWeight('a', '/a2', 30)).toEqual({ removedComment: '2% for now' });
    expect(editor.text).toBe(
      SHAPES.replace('{ path: /a2, weight: 2 } # 2% for now', '{ path: /a2, weight: 30 }'),
    );
  });

  test('keeps the comment when the weight does not change', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    expect(editor.setRouteWeight('a', '/a2', 2)).toEqual({});
    expect(editor.text).toBe(SHAPES);
  });

  test('sets a weight in block style and in a flow list', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    editor.setRouteWeight('a', '/a3', 33);
    editor.setRouteWeight('b', '/b2', 22);
    expect(editor.text).toBe(
      SHAPES.replace('        weight: 3\n', '        weight: 33\n').replace(
        '/b2, weight: 2 }',
        '/b2, weight: 22 }',
      ),
    );
  });

  test.each([
    [
      'a',
      '/a4',
      SHAPES.replace('        weight: 3\n', '        weight: 3\n      - { path: /a4, weight: 4 }\n'),
    ],
    [
      'b',
      '/b4',
      SHAPES.replace('{ path: /b3, weight: 3 }]', '{ path: /b3, weight: 3 }, { path: /b4, weight: 4 }]'),
    ],
    ['c', '/c1', SHAPES.replace('    routes: []\n', '    routes:\n      - { path: /c1, weight: 4 }\n')],
    [
      'd',
      '/d1',
      SHAPES.replace(
        '  d:\n    owner: o\n',
        '  d:\n    owner: o\n    routes:\n      - { path: /d1, weight: 4 }\n',
      ),
    ],
    [
      'e',
      '/e1',
      SHAPES.replace('  e: { owner: o }', '  e: { owner: o, routes: [{ path: /e1, weight: 4 }] }'),
    ],
  ])('adds a route to service %s in the style of its file', (service, path, expected) => {
    const editor = new PlatformSourceEditor(SHAPES);
    editor.addRoute(service, `${path}/`, 4);
    expect(editor.text).toBe(expected);
  });

  test.each([
    ['a', '/a2', SHAPES.replace('      - { path: /a2, weight: 2 } # 2% for now\n', '')],
    ['a', '/a3', SHAPES.replace('      - path: /a3\n        weight: 3\n', '')],
    ['b', '/b1', SHAPES.replace('{ path: /b1, weight: 1 }, ', '')],
    ['b', '/b2', SHAPES.replace(', { path: /b2, weight: 2 }', '')],
    ['b', '/b3', SHAPES.replace(', { path: /b3, weight: 3 }', '')],
  ])('removes route %s %s and only its text', (service, path, expected) => {
    const editor = new PlatformSourceEditor(SHAPES);
    editor.removeRoute(service, path);
    expect(editor.text).toBe(expected);
  });

  test('removing the last route of a list leaves routes: [], in block and flow style', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    for (const p of ['/a1', '/a2', '/a3']) editor.removeRoute('a', p);
    for (const p of ['/b3', '/b1', '/b2']) editor.removeRoute('b', p);
    expect(editor.text).toBe(
      SHAPES.replace(/ {4}routes:\n {6}- \{ path: \/a1[\s\S]*?weight: 3\n/, '    routes: []\n').replace(
        /routes: \[\{ path: \/b1.*\] \}/,
        'routes: [] }',
      ),
    );
    expect(editor.routes('a')).toEqual([]);
  });

  test('edits compose: each one sees the text the previous one left', () => {
    const editor = new PlatformSourceEditor(PLATFORM_FIXTURE_YAML);
    editor.addRoute('payment', '/api/payments', 5);
    editor.setRouteWeight('payment', '/api/payments', 15);
    editor.addService('gift-card', { owner: 'team-growth', port: 8080, routes: [] }, { comment: 'new' });
    editor.addRoute('gift-card', '/api/gift-cards', 0);
    const model = parsePlatform(editor.text);
    expect(model.service('payment').routes).toEqual([
      { path: '/api/payments', weight: 15, auth: 'customer' },
    ]);
    expect(model.service('gift-card').routes).toEqual([
      { path: '/api/gift-cards', weight: 0, auth: 'customer' },
    ]);
    expect(editor.text).toContain('\n  # new\n  gift-card:\n    owner: team-growth\n');
  });

  test('throws on a route the service does not have, positioned at its routes', () => {
    const editor = new PlatformSourceEditor(SHAPES, 'envs/platform.yaml');
    expect(() => editor.setRouteWeight('a', '/nope', 1)).toThrow(
      "envs/platform.yaml:5:7: services.a.routes: service 'a' has no route '/nope'",
    );
    expect(() => editor.removeRoute('d', '/nope')).toThrow(
      /^envs\/platform\.yaml:15:5: services\.d\.routes: /,
    );
  });

  test('throws when adding a service that exists, or into a flow-style services mapping', () => {
    expect(() => new PlatformSourceEditor(SHAPES).addService('b', { owner: 'o' })).toThrow(
      "platform.yaml:10:6: services.b: service 'b' is already defined; pick another name or remove it from the file first",
    );
    expect(() =>
      new PlatformSourceEditor('services: { a: { owner: o } }\n').addService('b', { owner: 'o' }),
    ).toThrow(/services: is a flow mapping/);
  });
});

describe('isStaleSplitComment', () => {
  test.each([
    ['25% to the new service, 75% still to the monolith', 25, 50, true],
    ['25% to the new service, 75% still to the monolith', 25, 75, true],
    ['a quarter: 25 percent', 25, 0, true],
    ['moving to 50% next week', 25, 50, false],
    ['phase 2 pilot', 25, 50, false],
  ])('%j from %i to %i → %s', (comment, before, after, stale) => {
    expect(isStaleSplitComment(comment, before, after)).toBe(stale);
  });
});

describe('PlatformSourceEditor fields (for --shadow, auth and what comes next)', () => {
  test('sets a route field, adding it in the route’s own style when absent', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    editor.setRouteField('a', '/a1', 'shadow', 10);
    editor.setRouteField('a', '/a3', 'shadow', 5);
    editor.setRouteField('a', '/a3', 'shadow', 6);
    expect(editor.text).toBe(
      SHAPES.replace('{ path: /a1, weight: 1 }', '{ path: /a1, weight: 1, shadow: 10 }').replace(
        '        weight: 3\n',
        '        weight: 3\n        shadow: 6\n',
      ),
    );
  });

  test('sets a service field, adding a mapping at the end of the service', () => {
    const editor = new PlatformSourceEditor(SHAPES);
    editor.setServiceField('d', 'auth', { required: true, scopes: ['orders:read'] });
    editor.setServiceField('e', 'tier', 'non-critical');
    expect(editor.text).toBe(
      SHAPES.replace(
        '  d:\n    owner: o\n',
        '  d:\n    owner: o\n    auth:\n      required: true\n      scopes: [orders:read]\n',
      ).replace('  e: { owner: o }', '  e: { owner: o, tier: non-critical }'),
    );
  });

  test('throws on a field that holds a list, and on an unknown service', () => {
    expect(() => new PlatformSourceEditor(SHAPES).setServiceField('a', 'routes', 'x')).toThrow(
      'platform.yaml:5:7: services.a.routes: is a list or mapping; change it by hand, aio only sets single values',
    );
    expect(() => new PlatformSourceEditor(SHAPES).setServiceField('zz', 'tier', 'critical')).toThrow(
      /services: no service 'zz' to set 'tier' on$/,
    );
  });
});
