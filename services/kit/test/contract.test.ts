import { describe, expect, test } from 'vitest';
import { createLogger, createServer, OWN_IDS_EXTENSION, PUBLIC_EXTENSION } from '../src/index.js';

function app() {
  const server = createServer({
    logger: createLogger({ name: 'shop', level: 'silent' }),
    name: 'shop',
    version: '1.2.3',
  });
  server.get(
    '/items/:itemId',
    { config: { public: true, auth: 'public', ownIds: '[0-9a-f]{32}' } },
    async () => ({}),
  );
  server.post(
    '/items',
    { config: { public: true, auth: 'public' }, schema: { body: { type: 'object', required: ['name'] } } },
    async () => ({}),
  );
  server.put('/items/:itemId', async () => ({}));
  return server;
}

describe('route contract and x-served-by', () => {
  test('GET /openapi.json is OpenAPI 3.1 from the route schemas, public operations marked', async () => {
    const server = app();
    const res = await server.inject({ url: '/openapi.json' });
    const doc = res.json<{
      openapi: string;
      info: Record<string, string>;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'shop', version: '1.2.3' });
    expect(doc.paths['/items/{itemId}']!.get).toMatchObject({
      [PUBLIC_EXTENSION]: true,
      [OWN_IDS_EXTENSION]: '[0-9a-f]{32}',
    });
    expect(doc.paths['/items']!.post).toMatchObject({
      [PUBLIC_EXTENSION]: true,
      requestBody: expect.anything(),
    });
    expect(doc.paths['/items/{itemId}']!.put![PUBLIC_EXTENSION]).toBeUndefined();
    for (const operator of ['/openapi.json', '/healthz', '/readyz']) {
      expect(doc.paths[operator]!.get![PUBLIC_EXTENSION], operator).toBeUndefined();
    }
    await server.close();
  });

  test('every answer says which service served it, errors and probes included', async () => {
    const server = app();
    for (const [method, url] of [
      ['GET', '/healthz'],
      ['GET', '/nowhere'],
      ['POST', '/items'],
    ] as const) {
      const res = await server.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(res.headers['x-served-by'], url).toBe('shop');
    }
    await server.close();
  });
});
