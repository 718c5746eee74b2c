import { StackScope, startStack, TOKEN_ISSUER, type Stack } from '@aio/stack';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';

// Key rotation end to end (issue 15): the stack's token issuer rotates its keys as an identity
// provider does (publish, sign, retire), and order (the kit's TokenVerifier) and the local gateway's
// edge verifier (both jose createRemoteJWKSet) follow; the issuer counts its JWKS reads (GET /keys).
// Then the issuer is killed and restarted: it reloads its keys from the stack's state directory.
const ROOT = join(import.meta.dirname, '../..');
const FIXTURE = fileURLToPath(new URL('../fixtures/platform.yaml', import.meta.url));
/** Order's JWKS cooldown here (the kit's default is 30 s; shorter, so the test waits less). */
const ORDER_COOLDOWN_MS = 4000;
/** The edge verifier's cooldown (cli/edge-token-verifier.ts). */
const EDGE_COOLDOWN_MS = 1000;

const dir = mkdtempSync(join(tmpdir(), 'aio-key-rotation-'));
let stack: Stack;
let gateway: string;
let order: string;

beforeAll(async () => {
  // a scratch copy: absolute contract paths, every order route at the order service (auth: customer)
  const spec = parse(readFileSync(FIXTURE, 'utf8').replaceAll('../../', `${ROOT}/`)) as {
    services: Record<string, { routes: { weight: number }[] }>;
    gateway: { rateLimit?: { perMinute: number } };
  };
  for (const r of spec.services.order!.routes) r.weight = 100;
  // the floods below are above the edge's rate limit of the fixture; this test measures key fetches
  spec.gateway.rateLimit = { perMinute: 1_000_000 };
  writeFileSync(join(dir, 'platform.yaml'), stringify(spec));
  stack = await startStack({
    processes: ['gateway'],
    scope: StackScope.test('key_rotation'),
    commonEnv: { DB_POOL_MAX: '3' },
    env: {
      order: { AUTH_JWKS_COOLDOWN_MS: String(ORDER_COOLDOWN_MS) },
      gateway: { AIO_PLATFORM_FILE: join(dir, 'platform.yaml') },
    },
  });
  gateway = `${stack.process('gateway').url}/api/orders`;
  order = `${stack.process('order').url}/orders`;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly type: string;
}
/** A customer route with `token`: through the gateway (edge check, then order) or at order itself. */
async function get(url: string, token: string): Promise<Answer> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, type: res.headers.get('content-type') ?? '' };
}
const jwksReads = async () => (await stack.tokens.keys()).jwksRequests;
const publishedKids = async () => (await stack.tokens.keys()).keys.map((k) => k.kid).sort();

/** `count` requests with tokens under random unknown kids, 8 at a time; every answer. */
async function flood(url: string, count: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        next++;
        answers.push(await get(url, await stack.tokens.unknownKey(`flood-${next}`)));
      }
    }),
  );
  return answers;
}

/** Sends unknown-kid tokens to `url` until the issuer saw `reads` more JWKS reads (a verifier refetched). */
async function untilRefetched(url: string, reads: number): Promise<void> {
  const target = (await jwksReads()) + reads;
  const deadline = Date.now() + 60_000;
  while ((await jwksReads()) < target) {
    if (Date.now() > deadline) throw new Error(`no JWKS refetch within 60 s after unknown kids at ${url}`);
    expect((await get(url, await stack.tokens.unknownKey('poke'))).status).toBe(401);
    await sleep(200);
  }
}

let first: string;
let second: string;
/** Signed by the first key and never shown to a verifier before that key is retired. */
let unseenOld: string;

describe('key rotation through the stack', () => {
  test('a key published a cooldown before it signs is accepted at its first token, with one JWKS read per verifier', async () => {
    const before = await stack.tokens.keys();
    first = before.signing;
    expect(before.keys.map((k) => k.kid)).toEqual([first]);
    expect(await get(gateway, await stack.tokens.for('alice'))).toMatchObject({ status: 200 });
    unseenOld = await stack.tokens.request({ customer: 'bob' });

    second = await stack.tokens.publishKey();
    expect(await publishedKids()).toEqual([first, second].sort());
    // the IdP's rule (docs/security.md, "Key rotation"): sign with a published key only once every
    // verifier may refetch, i.e. its cooldown after publication; a verifier whose set is older then
    // refetches on the new kid, one whose set is newer already has it. Waiting longer changes nothing.
    await sleep(ORDER_COOLDOWN_MS + 500);
    expect(await stack.tokens.rotate(second)).toEqual({ kid: second, previous: first });
    const reads = await jwksReads();

    const rotated = await stack.tokens.for('carol');
    expect(JSON.parse(Buffer.from(rotated.split('.')[0]!, 'base64url').toString()).kid).toBe(second);
    expect(await get(gateway, rotated)).toMatchObject({ status: 200 });
    expect(await get(order, rotated)).toMatchObject({ status: 200 });
    // the edge verifier and order each read the set once for the new kid
    expect(await jwksReads()).toBe(reads + 2);
    // and then answer from their cache
    expect(await get(gateway, await stack.tokens.request({ customer: 'dave' }))).toMatchObject({
      status: 200,
    });
    expect(await get(order, await stack.tokens.request({ customer: 'erin' }))).toMatchObject({ status: 200 });
    expect(await jwksReads()).toBe(reads + 2);
  });

  test('refuses to retire a key whose tokens may be valid, then a retired key’s token is a 401 problem once verifiers refetch', async () => {
    await expect(stack.tokens.retire(second)).rejects.toThrow(/409 .*is the signing key/);
    await expect(stack.tokens.retire(first)).rejects.toThrow(/409 .*may be valid until/);
    expect(await publishedKids()).toEqual([first, second].sort());
    // an operator who must withdraw it now (a leaked key), not after its tokens expired
    await stack.tokens.retire(first, { force: true });
    expect(await publishedKids()).toEqual([second]);
    // each verifier keeps the set it has until its cacheMaxAge (jose: 10 min) or an unknown kid
    // after its cooldown; the unknown kids below stand for the next one that comes
    await untilRefetched(order, 1);
    await untilRefetched(gateway, 1);
    for (const url of [order, gateway]) {
      const refused = await get(url, unseenOld);
      expect(refused.status, url).toBe(401);
      expect(refused.type, url).toMatch(/^application\/problem\+json/);
    }
    expect(await get(gateway, await stack.tokens.for('carol'))).toMatchObject({ status: 200 });
  });

  test('a flood of unknown kids reads the JWKS at most once per cooldown', async () => {
    for (const [url, cooldown] of [
      [order, ORDER_COOLDOWN_MS],
      [gateway, EDGE_COOLDOWN_MS],
    ] as const) {
      const reads = await jwksReads();
      const started = Date.now();
      const answers = await flood(url, 150);
      const elapsed = Date.now() - started;
      expect(answers).toHaveLength(150);
      expect(
        answers.every((a) => a.status === 401 && a.type.startsWith('application/problem+json')),
        url,
      ).toBe(true);
      // the invariant, whatever the machine's speed: one read per started cooldown at most
      expect(await jwksReads(), `${url} in ${elapsed} ms`).toBeLessThanOrEqual(
        reads + 1 + Math.floor(elapsed / cooldown),
      );
    }
  });
});

describe('the issuer keeps its keys across a restart', () => {
  test('after kill -9 it publishes the same keys, signs with the same one, and its earlier tokens verify', async () => {
    const issuer = stack.process(TOKEN_ISSUER);
    const file = issuer.env.TOKEN_ISSUER_KEYS_FILE!;
    expect(file).toBeTruthy();
    expect(file).not.toMatch(/\/dist\//);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = await stack.tokens.keys();
    const minted = await stack.tokens.request({ customer: 'frank' });

    await issuer.kill9();
    await issuer.start();
    const after = await stack.tokens.keys();
    expect(after.signing).toBe(before.signing);
    expect(after.keys.map((k) => k.kid)).toEqual(before.keys.map((k) => k.kid));
    // a verifier that reads the set afresh (a restarted order) accepts the token minted before
    await stack.process('order').restart();
    expect(await get(order, minted)).toMatchObject({ status: 200 });
    expect(await get(gateway, await stack.tokens.request({ customer: 'frank' }))).toMatchObject({
      status: 200,
    });
    // the retired key stays retired
    expect(after.keys.map((k) => k.kid)).toEqual([second]);
    expect(await get(order, unseenOld)).toMatchObject({ status: 401 });
  });
});
