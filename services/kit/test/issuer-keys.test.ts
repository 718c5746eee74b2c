import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, test } from 'vitest';
import { DevTokenIssuer, IssuerKeySet, IssuerTokens, KeyFileError } from '../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aio-issuer-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newFile = () => join(dir, `state-${++n}`, 'keys.json');

async function jwks(issuer: DevTokenIssuer): Promise<JSONWebKeySet> {
  return (await (await fetch(issuer.jwksUri)).json()) as JSONWebKeySet;
}

async function send(issuer: DevTokenIssuer, method: string, path: string, body?: string) {
  const res = await fetch(`${issuer.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe('DevTokenIssuer keysFile', () => {
  test('creates the key file with mode 0600 and a restarted issuer publishes the same keys and verifies earlier tokens', async () => {
    const file = newFile();
    const first = await DevTokenIssuer.start({ keysFile: file });
    const token = await first.issue({ customer: 'alice' });
    const published = await jwks(first);
    await first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).keys[0].jwk.d).toEqual(expect.any(String));

    const second = await DevTokenIssuer.start({ keysFile: file });
    try {
      expect(await jwks(second)).toEqual(published);
      expect(published.keys[0]).not.toHaveProperty('d');
      const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks(second)));
      expect(payload.sub).toBe('alice');
    } finally {
      await second.close();
    }
  });

  test('two issuers starting on one new file agree on its key', async () => {
    const file = newFile();
    const [a, b] = await Promise.all([
      DevTokenIssuer.start({ keysFile: file }),
      DevTokenIssuer.start({ keysFile: file }),
    ]);
    try {
      expect(a.status().signing).toBe(b.status().signing);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('without a file every start has a new key', async () => {
    const [a, b] = await Promise.all([DevTokenIssuer.start(), DevTokenIssuer.start()]);
    expect(a.status().signing).not.toBe(b.status().signing);
    await Promise.all([a.close(), b.close()]);
  });

  test('throws KeyFileError naming the file and the field for a key file it cannot use', async () => {
    const cases: [string, RegExp][] = [
      ['{not json', /is not JSON/],
      ['{"version":2}', /version: must be 1, got 2/],
      ['{"version":1,"signing":"x","keys":[]}', /keys: must be a non-empty list/],
      [
        '{"version":1,"signing":"x","keys":[{"jwk":{"kty":"RSA","kid":"x"}}]}',
        /keys\[0\]\.jwk: must be a private RSA JWK/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = newFile();
      await IssuerKeySet.open(file); // creates the directory
      writeFileSync(file, text);
      const err = await IssuerKeySet.open(file).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(KeyFileError);
      expect((err as Error).message, text).toMatch(message);
      expect((err as Error).message).toContain(file);
    }
    const file = newFile();
    const good = JSON.parse(readFileSync((await IssuerKeySet.open(file), file), 'utf8'));
    writeFileSync(file, JSON.stringify({ ...good, signing: 'gone' }));
    await expect(IssuerKeySet.open(file)).rejects.toThrow(
      /signing: must be the kid of one of the keys, got "gone"/,
    );
  });
});

describe('DevTokenIssuer key rotation endpoints', () => {
  test('publishes, signs with and retires keys, each step saved to the key file', async () => {
    const file = newFile();
    const issuer = await DevTokenIssuer.start({ keysFile: file });
    const tokens = new IssuerTokens(issuer.url);
    try {
      const first = issuer.status().signing;
      const second = await tokens.publishKey();
      expect((await jwks(issuer)).keys.map((k) => k.kid)).toEqual([first, second]);
      expect(await tokens.rotate(second)).toEqual({ kid: second, previous: first });
      const header = JSON.parse(Buffer.from((await tokens.for('a')).split('.')[0]!, 'base64url').toString());
      expect(header.kid).toBe(second);
      // a fresh key, published and signing at once (the previous stays published)
      const third = (await tokens.rotate()).kid;
      expect((await tokens.keys()).keys.map((k) => k.kid)).toEqual([first, second, third]);
      // `first` never signed a token: nothing can still be valid
      await tokens.retire(first);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      expect(saved.signing).toBe(third);
      expect(saved.keys.map((k: { jwk: { kid: string } }) => k.jwk.kid)).toEqual([second, third]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await issuer.close();
    }
  });

  test('rejects a bad rotation with 4xx problem+json and changes nothing', async () => {
    const issuer = await DevTokenIssuer.start();
    try {
      const signing = issuer.status().signing;
      await issuer.issue({ customer: 'alice' });
      const old = signing;
      await issuer.rotate();
      const refused: [string, string, string | undefined, number, RegExp][] = [
        ['POST', '/keys/rotate', '{"kid":"nope"}', 409, /kid: nope is not published; publish a key first/],
        ['POST', '/keys/rotate', '{"kid":7}', 400, /kid: must be a string/],
        ['POST', '/keys/rotate', '{"kid":"x","extra":1}', 400, /extra: is not allowed/],
        ['POST', '/keys/rotate', '[1]', 400, /body: must be a JSON object/],
        ['DELETE', `/keys/${issuer.status().signing}`, undefined, 409, /is the signing key/],
        ['DELETE', `/keys/${old}`, undefined, 409, /signed tokens that may be valid until .*\?force=true/],
        ['DELETE', '/keys/unknown', undefined, 404, /kid: unknown is not a published key/],
        ['POST', '/tokens', '{"customer":"a","unknownKid":"yes"}', 400, /unknownKid: must be a boolean/],
      ];
      const before = issuer.status();
      for (const [method, path, body, status, detail] of refused) {
        const res = await send(issuer, method, path, body);
        expect(res.status, `${method} ${path} ${body}`).toBe(status);
        expect(res.type).toMatch(/^application\/problem\+json/);
        expect(res.body.detail).toMatch(detail);
      }
      expect(issuer.status()).toEqual({ ...before, jwksRequests: issuer.jwksRequests });
      expect((await send(issuer, 'DELETE', `/keys/${old}?force=true`)).status).toBe(200);
      expect(issuer.status().keys).toHaveLength(1);
    } finally {
      await issuer.close();
    }
  });
});
