import { freePort } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { Testing } from 'cdk8s';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GatewayChart, type KubeObject } from '../../charts/index.js';
import { startLocalGateway, type LocalGateway } from '../../cli/local-gateway.js';
import { loadPlatform, PlatformModel, type PlatformSpec } from '../../model/index.js';

// The edge token check through the local nginx gateway, with real processes: the monolith, order
// and inventory from @aio/stack, a JWKS served here (jose keys generated per run), and the gateway
// rendered from the synthesized objects of the strangler fixture with /api/orders `auth: customer`
// and /api/stock `auth: public`.
const FIXTURE = fileURLToPath(new URL('../fixtures/strangler/platform.yaml', import.meta.url));
const AUDIENCE = 'allinone-shop';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}
async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

let published: SigningKey[] = [];
let jwks: http.Server;
let issuer: string;
let stack: Stack;
let gateway: LocalGateway;
let echoGateway: LocalGateway;
let echo: http.Server;
let echoed: http.IncomingHttpHeaders = {};

/** The fixture with orders behind the token check, as the gateway synthesizes it. */
function gatewayObjects(): KubeObject[] {
  const base = loadPlatform(FIXTURE);
  const spec = structuredClone(base.spec) as PlatformSpec;
  spec.services.order!.routes[0]!.auth = 'customer';
  spec.identity = { issuer, audience: AUDIENCE };
  const model = new PlatformModel(spec, base.file);
  return Testing.synth(
    new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'dev')),
  ) as KubeObject[];
}

async function token(
  key: SigningKey,
  claims: { sub?: string; iss?: string; aud?: string; exp?: number | string } = {},
): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '5m');
  if (claims.sub !== '') jwt.setSubject(claims.sub ?? 'alice');
  return jwt.sign(key.privateKey);
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly servedBy: string | null;
  readonly body: string;
}
async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    servedBy: res.headers.get('x-served-by'),
    body: await res.text(),
  };
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

beforeAll(async () => {
  published = [await signingKey('k1')];
  jwks = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  jwks.listen(0, '127.0.0.1');
  await new Promise((r) => jwks.once('listening', r));
  issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  const identity = { issuer, audience: AUDIENCE, jwksUri: `${issuer}/.well-known/jwks.json` };
  // a short JWKS cooldown in the kit too, so the rotation test sees the services refetch
  const authEnv = {
    AUTH_ISSUER: issuer,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_URI: identity.jwksUri,
    AUTH_JWKS_COOLDOWN_MS: '500',
  };

  stack = await startStack({
    processes: ['monolith', 'order', 'inventory'],
    scope: StackScope.test('edge-token'),
    // the services check the same tokens again (the kit), against this test's issuer
    env: {
      inventory: { SWEEP_INTERVAL_MS: '0' },
      order: { PAYMENT_URL: 'http://127.0.0.1:9', ...authEnv },
      monolith: authEnv,
    },
  });
  const hostPort = (name: string) => stack.process(name).url.replace('http://', '');
  const seeded = await fetch(`${stack.process('inventory').url}/stock/EDGE-1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ available: 5 }),
  });
  expect(seeded.ok).toBe(true);
  const objects = gatewayObjects();
  gateway = await startLocalGateway({
    objects,
    port: await freePort(),
    identity,
    upstreams: {
      'legacy/monolith': hostPort('monolith'),
      'order/order': hostPort('order'),
      'inventory/inventory': hostPort('inventory'),
    },
  });
  // the same objects with order replaced by a server that records the headers it receives
  echo = http.createServer((req, res) => {
    echoed = req.headers;
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'echo' }).end('{}');
  });
  echo.listen(0, '127.0.0.1');
  await new Promise((r) => echo.once('listening', r));
  const echoAt = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
  echoGateway = await startLocalGateway({
    objects,
    port: await freePort(),
    identity,
    upstreams: { 'legacy/monolith': echoAt, 'order/order': echoAt, 'inventory/inventory': echoAt },
  });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await echoGateway?.stop();
  await stack?.stop();
  echo?.close();
  jwks?.close();
});

describe('the edge token check (local nginx gateway)', () => {
  test('a customer route without a token answers 401 problem+json, naming the header to send', async () => {
    const a = await call(gateway.url, 'GET', '/api/orders?customerId=alice');
    expect(a.status).toBe(401);
    expect(a.type).toBe('application/problem+json');
    expect(JSON.parse(a.body)).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(a.servedBy).toBeNull();
  });

  test('a valid token passes to the route, whichever side its cohort lands on', async () => {
    const a = await call(
      gateway.url,
      'GET',
      '/api/orders?customerId=alice',
      bearer(await token(published[0]!)),
    );
    expect(a.status).toBe(200);
    expect(['order', 'monolith']).toContain(a.servedBy);
  });

  test('rejects an expired token, a wrong signature, audience or issuer, and a token without a subject', async () => {
    const stranger = await signingKey('k1'); // the published kid, another key
    const bad = {
      expired: await token(published[0]!, { exp: Math.floor(Date.now() / 1000) - 60 }),
      signature: await token(stranger),
      audience: await token(published[0]!, { aud: 'another-shop' }),
      issuer: await token(published[0]!, { iss: 'https://login.example/' }),
      subject: await token(published[0]!, { sub: '' }),
      malformed: 'not.a.token',
    };
    for (const [why, t] of Object.entries(bad)) {
      const a = await call(gateway.url, 'POST', '/api/orders', {
        ...bearer(t),
        'content-type': 'application/json',
      });
      expect({ why, status: a.status, type: a.type }).toEqual({
        why,
        status: 401,
        type: 'application/problem+json',
      });
    }
    // a token in the query string is not a bearer token
    const q = await call(
      gateway.url,
      'GET',
      `/api/orders?customerId=alice&jwt=${await token(published[0]!)}`,
    );
    expect(q.status).toBe(401);
  });

  test('a public route answers without a token', async () => {
    const a = await call(gateway.url, 'GET', '/api/stock/EDGE-1');
    expect(a.status).toBe(200);
    expect(a.servedBy).toBe('inventory');
  });

  test('operator paths through the gateway answer 404 or 403, with a token or without', async () => {
    const t = bearer(await token(published[0]!));
    const paths: [string, string][] = [
      ['PUT', '/api/stock/EDGE-1'],
      ['PUT', '/stock/EDGE-1'],
      ['GET', '/sagas'],
      ['POST', '/sagas/x/retry'],
      ['GET', '/metrics'],
      ['GET', '/events'],
      ['GET', '/history/status'],
      ['GET', '/api/orders/../../metrics'],
    ];
    for (const [method, path] of paths) {
      for (const headers of [{}, t]) {
        const a = await call(gateway.url, method, path, { ...headers, 'content-type': 'application/json' });
        expect({ method, path, status: [403, 404].includes(a.status) }).toEqual({
          method,
          path,
          status: true,
        });
      }
    }
  });

  test('an identity header sent by the client changes nothing: refused without a token, removed with one', async () => {
    const forged = { 'x-consumer-username': 'alice', 'x-customer-id': 'alice', 'x-aio-customer': 'alice' };
    const a = await call(echoGateway.url, 'GET', '/api/orders?customerId=alice', forged);
    expect(a.status).toBe(401);
    const b = await call(echoGateway.url, 'GET', '/api/orders?customerId=bob', {
      ...forged,
      ...bearer(await token(published[0]!, { sub: 'bob' })),
    });
    expect(b.status).toBe(200);
    for (const h of Object.keys(forged)) expect(echoed[h]).toBeUndefined();
    expect(echoed.authorization).toMatch(/^Bearer /);
  });

  test('a rotated key works at once: a token with a new kid makes the verifier refetch the JWKS', async () => {
    const next = await signingKey('k2');
    const early = await call(gateway.url, 'GET', '/api/orders?customerId=alice', bearer(await token(next)));
    expect(early.status).toBe(401); // not published yet
    published = [next, published[0]!];
    // jose refetches an unknown kid after its cooldown (1 s here)
    await new Promise((r) => setTimeout(r, 1100));
    const a = await call(gateway.url, 'GET', '/api/orders?customerId=alice', bearer(await token(next)));
    expect(a.status).toBe(200);
  });
});
