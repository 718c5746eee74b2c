import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  AUTH_EXTENSION,
  ConfigError,
  createLogger,
  createServer,
  customerOf,
  ownCustomer,
  TokenRejected,
  TokenVerifier,
  type FastifyInstance,
} from '../src/index.js';
import {
  DEV_TOKEN_AUDIENCE,
  DevTokenIssuer,
  IssuerTokens,
  SPOOFED_IDENTITY_HEADERS,
} from '../src/testing/index.js';

let issuer: DevTokenIssuer;
let tokens: IssuerTokens;

beforeAll(async () => {
  issuer = await DevTokenIssuer.start();
  tokens = new IssuerTokens(issuer.url);
});
afterAll(() => issuer.close());

function verifierFor(jwksUri = issuer.jwksUri, cooldownMs = 30_000): TokenVerifier {
  return new TokenVerifier({
    issuer: issuer.url,
    audience: DEV_TOKEN_AUDIENCE,
    jwksUri,
    cooldownMs,
    timeoutMs: 1000,
  });
}

function shop(auth: TokenVerifier | undefined): FastifyInstance {
  const app = createServer({
    logger: createLogger({ name: 'shop', level: 'silent' }),
    name: 'shop',
    ...(auth ? { auth } : {}),
  });
  app.get('/me', { config: { public: true } }, async (req) => ({ customerId: customerOf(req) }));
  app.get<{ Querystring: { customerId?: string } }>('/mine', { config: { public: true } }, async (req) => ({
    customerId: ownCustomer(req, req.query.customerId, 'query customerId'),
  }));
  app.get('/open', { config: { public: true, auth: 'public' } }, async (req) => ({
    principal: req.principal ?? null,
  }));
  app.get('/ops', async (req) => ({ principal: req.principal ?? null }));
  return app;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the kit token check', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = shop(verifierFor());
  });
  afterAll(() => app.close());

  test('a valid token puts its subject on request.principal', async () => {
    const res = await app.inject({ url: '/me', headers: bearer(await tokens.for('alice')) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ customerId: 'alice' });
  });

  test('rejects a request without a token: 401 problem with a Bearer challenge and no error code', async () => {
    const res = await app.inject({ url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="shop"');
    expect(res.json().detail).toMatch(/Authorization: Bearer/);
  });

  test.each([
    ['expired', () => tokens.expired('alice'), /expired/],
    ['not yet valid', () => tokens.notYetValid('alice'), /not valid yet/],
    ['for another audience', () => tokens.wrongAudience('alice'), /audience/],
    ['from another issuer', () => tokens.wrongIssuer('alice'), /issuer/],
    ['with a forged signature', () => tokens.wrongSignature('alice'), /signature/],
  ])('rejects a token %s with 401 invalid_token', async (_kind, make, detail) => {
    const res = await app.inject({ url: '/me', headers: bearer(await make()) });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="shop", error="invalid_token"/);
    expect(res.json().detail).toMatch(detail);
  });

  test('rejects alg none, HS256 and malformed credentials with 401, never 500', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = {
      sub: 'alice',
      iss: issuer.url,
      aud: DEV_TOKEN_AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 600,
    };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('k'.repeat(32)));
    for (const authorization of [
      `Bearer ${none}`,
      `Bearer ${hs256}`,
      'Bearer not-a-jwt',
      'Basic YWxpY2U6eA==',
      'Bearer',
    ]) {
      const res = await app.inject({ url: '/me', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const hs = await app.inject({ url: '/me', headers: bearer(hs256) });
    expect(hs.json().detail).toMatch(/algorithm is not accepted/);
  });

  test('trusts no identity header a client sends', async () => {
    const spoofed = SPOOFED_IDENTITY_HEADERS;
    expect((await app.inject({ url: '/me', headers: spoofed })).statusCode).toBe(401);
    const res = await app.inject({
      url: '/me',
      headers: { ...spoofed, ...bearer(await tokens.for('alice')) },
    });
    expect(res.json()).toEqual({ customerId: 'alice' });
  });

  test('refuses a claimed customer that is not the token subject with 403', async () => {
    const headers = bearer(await tokens.for('alice'));
    expect((await app.inject({ url: '/mine?customerId=alice', headers })).statusCode).toBe(200);
    const res = await app.inject({ url: '/mine?customerId=bob', headers });
    expect(res.statusCode).toBe(403);
    expect(res.json()['invalid-params']).toEqual([
      { name: 'query customerId', reason: 'is not the customer of the token' },
    ]);
  });

  test('public and operator routes take no token and set no principal', async () => {
    for (const url of ['/open', '/ops']) {
      const res = await app.inject({ url, headers: bearer(await tokens.wrongSignature('alice')) });
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toEqual({ principal: null });
    }
  });
});

describe('the JWKS cache', () => {
  test('a rotated key (unknown kid) triggers exactly one refetch, then the cache answers', async () => {
    const app = shop(verifierFor(issuer.jwksUri, 0));
    const before = issuer.jwksRequests;
    expect(
      (await app.inject({ url: '/me', headers: bearer(await tokens.request({ customer: 'alice' })) }))
        .statusCode,
    ).toBe(200);
    expect(issuer.jwksRequests).toBe(before + 1);
    await issuer.rotate();
    const rotated = await tokens.request({ customer: 'alice' });
    const answers = await Promise.all(
      [1, 2, 3].map(() => app.inject({ url: '/me', headers: bearer(rotated) })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(issuer.jwksRequests).toBe(before + 2);
    for (let i = 0; i < 5; i++) await app.inject({ url: '/me', headers: bearer(rotated) });
    expect(issuer.jwksRequests).toBe(before + 2);
    await app.close();
  });

  test('answers 503 problem with Retry-After when the JWKS cannot be read, never 500', async () => {
    const garbage = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
    );
    garbage.listen(0, '127.0.0.1');
    await once(garbage, 'listening');
    const port = (garbage.address() as AddressInfo).port;
    const token = await tokens.for('alice');
    for (const jwksUri of [`http://127.0.0.1:${port}/jwks.json`, 'http://127.0.0.1:9/jwks.json']) {
      const app = shop(verifierFor(jwksUri));
      const res = await app.inject({ url: '/me', headers: bearer(token) });
      expect(res.statusCode, jwksUri).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('5');
      await app.close();
    }
    garbage.close();
  });
  test('a retired key stops verifying new tokens once the set is older than jwksMaxAgeMs, without an unknown kid', async () => {
    const verifier = new TokenVerifier({
      issuer: issuer.url,
      audience: DEV_TOKEN_AUDIENCE,
      jwksUri: issuer.jwksUri,
      cooldownMs: 60_000, // no refetch from a cooldown during the test: only the age can drop the key
      jwksMaxAgeMs: 400,
    });
    const [seen, unseen] = await Promise.all(
      ['alice', 'bob'].map((customer) => tokens.request({ customer })),
    );
    expect((await verifier.verify(seen!)).customerId).toBe('alice');
    const { previous } = await tokens.rotate();
    await tokens.retire(previous, { force: true });
    const fetched = issuer.jwksRequests;
    await new Promise((r) => setTimeout(r, 500));
    await expect(verifier.verify(unseen!)).rejects.toBeInstanceOf(TokenRejected);
    expect(issuer.jwksRequests).toBe(fetched + 1);
    // a token of the signing key verifies from the set just read
    expect((await verifier.verify(await tokens.request({ customer: 'carol' }))).customerId).toBe('carol');
    expect(issuer.jwksRequests).toBe(fetched + 1);
  });
});

describe('verified tokens remembered', () => {
  /** A verifier whose full checks (signature and claims) are counted. */
  function counted(props: { verifiedCacheSize?: number } = {}) {
    const verifier = new TokenVerifier({
      issuer: issuer.url,
      audience: DEV_TOKEN_AUDIENCE,
      jwksUri: issuer.jwksUri,
      clockToleranceSeconds: 0,
      ...props,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const checks = vi.spyOn(verifier as any, 'check');
    return { verifier, checks };
  }

  test('the same token is checked in full once; another token, or one evicted, is checked again', async () => {
    const { verifier, checks } = counted({ verifiedCacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => tokens.request({ customer: id })));
    for (let i = 0; i < 3; i++) expect((await verifier.verify(a!)).customerId).toBe('a');
    expect(checks).toHaveBeenCalledTimes(1);
    expect((await verifier.verify(b!)).customerId).toBe('b');
    expect((await verifier.verify(c!)).customerId).toBe('c'); // evicts a, the least recently used
    expect(checks).toHaveBeenCalledTimes(3);
    await verifier.verify(a!);
    expect(checks).toHaveBeenCalledTimes(4);
    // a token that differs by one character is not the remembered one, and is refused
    const tampered = `${a!.slice(0, -2)}${a!.at(-2) === 'A' ? 'B' : 'A'}${a!.slice(-1)}`;
    await expect(verifier.verify(tampered)).rejects.toBeInstanceOf(TokenRejected);
  });

  test('a remembered token is never accepted after its exp', async () => {
    const { verifier } = counted();
    // exp is whole seconds from a floored iat: a 1 s token could live only a few ms, and be
    // expired at its first check on a loaded machine. 3 s leaves at least 2 s for that check.
    const short = await tokens.request({ customer: 'alice', expiresInSeconds: 3 });
    expect((await verifier.verify(short)).customerId).toBe('alice');
    const { exp } = JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()) as { exp: number };
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
    await expect(verifier.verify(short)).rejects.toThrow(/expired/);
  });

  test('size 0 checks every request in full', async () => {
    const { verifier, checks } = counted({ verifiedCacheSize: 0 });
    const token = await tokens.request({ customer: 'alice' });
    for (let i = 0; i < 3; i++) await verifier.verify(token);
    expect(checks).toHaveBeenCalledTimes(3);
  });
});

describe('route levels', () => {
  test('throws when a customer route is declared on a server without an issuer', () => {
    expect(() => shop(undefined)).toThrow(
      /GET \/me needs a customer token .* set AUTH_ISSUER and AUTH_AUDIENCE/,
    );
  });

  test('throws on an operator route marked public', () => {
    const app = createServer({ logger: createLogger({ name: 'shop', level: 'silent' }) });
    expect(() => app.get('/x', { config: { public: true, auth: 'operator' } }, async () => ({}))).toThrow(
      /auth 'operator' on a public route/,
    );
  });

  test('the contract names each operation level and the bearer scheme of customer ones', async () => {
    const app = shop(verifierFor());
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/me'].get).toMatchObject({
      [AUTH_EXTENSION]: 'customer',
      security: [{ customerToken: [] }],
    });
    expect(doc.paths['/open'].get).toMatchObject({ [AUTH_EXTENSION]: 'public', security: [] });
    expect(doc.paths['/ops'].get[AUTH_EXTENSION]).toBe('operator');
    expect(doc.paths['/ops'].get.security).toBeUndefined();
    expect(doc.components.securitySchemes.customerToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    await app.close();
  });

  test('throws naming the missing variable when only half of the auth env is set', () => {
    expect(() => TokenVerifier.fromConfig({ AUTH_ISSUER: 'https://issuer.example' })).toThrow(ConfigError);
    expect(() => TokenVerifier.fromConfig({ AUTH_ISSUER: 'https://issuer.example' })).toThrow(
      /^AUTH_AUDIENCE: is required/,
    );
    expect(TokenVerifier.fromConfig({})).toBeUndefined();
  });
});
