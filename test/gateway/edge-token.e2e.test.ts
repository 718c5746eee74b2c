import { freePort } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { Testing } from 'cdk8s';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GatewayChart, type KubeObject } from '../../charts/index.js';
import { cohortBucket, COHORT_HEADER } from '../../charts/edge-cohort.js';
import { startLocalGateway, type LocalGateway } from '../../cli/local-gateway.js';
import { loadPlatform, PlatformModel, type PlatformSpec } from '../../model/index.js';

// The edge token check through the local nginx gateway, with real processes: the monolith, order
// and inventory from @aio/stack, a JWKS served here (jose keys generated per run), and the gateway
// rendered from the synthesized objects of the strangler fixture with /api/orders `auth: customer`
// (weight 25) and /api/stock `auth: public`. A second gateway over the same objects routes to echo
// servers, one per backend, that record what they receive: the cohorts are asserted there.
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
const echoes: http.Server[] = [];
/** The headers the last request to any echo backend carried. */
let echoed: http.IncomingHttpHeaders = {};

/** A backend that answers `{}` with `x-served-by: <name>` and keeps the request's headers. */
async function startEcho(name: string): Promise<string> {
  const echo = http.createServer((req, res) => {
    echoed = req.headers;
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name }).end('{}');
  });
  echo.listen(0, '127.0.0.1');
  await new Promise((r) => echo.once('listening', r));
  echoes.push(echo);
  return `127.0.0.1:${(echo.address() as AddressInfo).port}`;
}

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
  readonly setCookie: string | null;
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
    setCookie: res.headers.get('set-cookie'),
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
  // the same objects with each backend replaced by a server that records the headers it receives
  echoGateway = await startLocalGateway({
    objects,
    port: await freePort(),
    identity,
    upstreams: {
      'legacy/monolith': await startEcho('monolith'),
      'order/order': await startEcho('order'),
      'inventory/inventory': await startEcho('inventory'),
    },
  });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await echoGateway?.stop();
  await stack?.stop();
  for (const echo of echoes) echo.close();
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

/** The backend of /api/orders (weight 25 in the fixture) for a bucket: the service for 0..24. */
const ordersSide = (bucket: number) => (bucket < 25 ? 'order' : 'monolith');
/** Kong's bucket of a token's customer (charts/edge-cohort.ts). */
const subjectBucket = (sub: string) => cohortBucket(`sub:${sub}`);

describe('cohorts from the token subject (local nginx gateway)', () => {
  test('the same customer token lands on the same backend with any cookie or none, in the bucket Kong computes', async () => {
    const t = bearer(await token(published[0]!, { sub: 'alice' }));
    const cookies = [
      undefined,
      'aio_customer=visitor-1',
      'aio_customer=visitor-2',
      'aio_customer=other-device',
    ];
    const seen = [];
    for (const cookie of cookies) {
      const a = await call(echoGateway.url, 'GET', '/api/orders?customerId=alice', {
        ...t,
        ...(cookie ? { cookie } : {}),
      });
      seen.push({
        status: a.status,
        servedBy: a.servedBy,
        cohort: echoed[COHORT_HEADER],
        setCookie: a.setCookie,
      });
    }
    const expected = {
      status: 200,
      servedBy: ordersSide(subjectBucket('alice')),
      cohort: String(subjectBucket('alice')),
      setCookie: null,
    };
    expect(seen).toEqual(cookies.map(() => expected));
  });

  test('two customers whose buckets fall on either side of the weight go to different backends', async () => {
    // the first ids on each side of 25, found with Kong's function
    const ids = Array.from({ length: 200 }, (_, i) => `customer-${i}`);
    const moved = ids.find((id) => subjectBucket(id) < 25)!;
    const stayed = ids.find((id) => subjectBucket(id) >= 25)!;
    const sides: Record<string, (string | null)[]> = { [moved]: [], [stayed]: [] };
    for (const sub of [moved, stayed]) {
      for (const cookie of ['aio_customer=shared-device', 'aio_customer=own-device']) {
        const a = await call(echoGateway.url, 'GET', `/api/orders?customerId=${sub}`, {
          ...bearer(await token(published[0]!, { sub })),
          cookie,
        });
        sides[sub]!.push(a.servedBy);
      }
    }
    expect(sides).toEqual({ [moved]: ['order', 'order'], [stayed]: ['monolith', 'monolith'] });
  });

  test("a public route buckets a token's customer by the subject, an anonymous visitor by the cookie", async () => {
    const withToken = await call(echoGateway.url, 'GET', '/api/stock/EDGE-1', {
      ...bearer(await token(published[0]!, { sub: 'bob' })),
      cookie: 'aio_customer=visitor-3',
    });
    expect({ status: withToken.status, cohort: echoed[COHORT_HEADER] }).toEqual({
      status: 200,
      cohort: String(subjectBucket('bob')),
    });
    // Kong routes a public request by the token's subject before any check: an expired token too
    const expired = await token(published[0]!, { sub: 'bob', exp: Math.floor(Date.now() / 1000) - 60 });
    const late = await call(echoGateway.url, 'GET', '/api/stock/EDGE-1', bearer(expired));
    expect({ status: late.status, cohort: echoed[COHORT_HEADER] }).toEqual({
      status: 200,
      cohort: String(subjectBucket('bob')),
    });
    // anonymous: a minted cookie, then the same bucket for every request that sends it back
    const first = await call(echoGateway.url, 'GET', '/api/stock/EDGE-1');
    const minted = /aio_customer=([A-Za-z0-9-]+)/.exec(first.setCookie ?? '')?.[1];
    expect(minted).toMatch(/^[0-9a-f]{32}$/);
    const cohorts = [String(echoed[COHORT_HEADER])];
    for (let i = 0; i < 3; i++) {
      const again = await call(echoGateway.url, 'GET', '/api/stock/EDGE-1', {
        cookie: `aio_customer=${minted}`,
      });
      expect({ status: again.status, setCookie: again.setCookie }).toEqual({ status: 200, setCookie: null });
      cohorts.push(String(echoed[COHORT_HEADER]));
    }
    expect(new Set(cohorts).size).toBe(1);
    expect(Number(cohorts[0])).toBeGreaterThanOrEqual(0);
    expect(Number(cohorts[0])).toBeLessThan(100);
  });
});
