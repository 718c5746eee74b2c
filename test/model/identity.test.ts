import { describe, expect, test } from 'vitest';
import { parsePlatform, platformJsonSchema, ValidationErrors } from '../../model/index.js';
import { minimalPlatform, REFERENCE_YAML } from './fixtures.js';

const SERVICES =
  '  order:\n    owner: team-a\n    routes:\n      - { path: /api/orders, weight: 10 }\n      - { path: /api/products, weight: 100, auth: public }\n';

/** minimalPlatform with its identity line (line 15, after the 5 lines of SERVICES) replaced. */
function withIdentity(identity: string | undefined, services = SERVICES): string {
  const text = minimalPlatform(services);
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('identity:'));
  if (identity === undefined) lines.splice(at, 1);
  else lines.splice(at, 1, ...identity.split('\n'));
  return lines.join('\n');
}

function problems(text: string): string[] {
  try {
    parsePlatform(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationErrors);
    return (err as ValidationErrors).errors.map((e) => e.message);
  }
  throw new Error('expected the platform to be rejected');
}

describe('identity and route auth levels', () => {
  test('routes are customer unless they say public, and jwksUri defaults under the issuer', () => {
    const model = parsePlatform(withIdentity('identity: { issuer: https://login.example/, audience: shop }'));
    expect(model.routes().map((r) => [r.path, r.auth])).toEqual([
      ['/api/orders', 'customer'],
      ['/api/products', 'public'],
    ]);
    expect(model.identity).toEqual({
      kind: 'issuer',
      issuer: 'https://login.example/',
      audience: 'shop',
      jwksUri: 'https://login.example/.well-known/jwks.json',
    });
  });

  test('an explicit jwksUri is kept, and provision: cognito needs nothing else', () => {
    const named = parsePlatform(
      withIdentity(
        'identity:\n  issuer: https://id.example\n  audience: shop\n  jwksUri: https://keys.example/jwks',
      ),
    );
    expect(named.identity).toMatchObject({
      issuer: 'https://id.example',
      jwksUri: 'https://keys.example/jwks',
    });
    expect(parsePlatform(withIdentity('identity: { provision: cognito }')).identity).toEqual({
      kind: 'cognito',
    });
  });

  test('the reference platform names its issuer and keeps product and stock reads public', () => {
    const model = parsePlatform(REFERENCE_YAML);
    expect(model.identity?.kind).toBe('issuer');
    const auth = Object.fromEntries(model.routes().map((r) => [r.path, r.auth]));
    expect(auth).toMatchObject({
      '/api/orders': 'customer',
      '/api/reviews': 'customer',
      '/api/stock': 'public',
    });
  });

  test('throws on a customer route without an identity, at the route, naming what to add', () => {
    expect(problems(withIdentity(undefined))).toEqual([
      "platform.yaml:13:9: services.order.routes[0]: has auth 'customer' (the default), which needs a token issuer to check customers' tokens: add identity: { issuer, audience } (or identity: { provision: cognito }) at the top level, or set auth: public on this route",
    ]);
    // Every route public: no issuer is needed.
    const open =
      '  order:\n    owner: team-a\n    routes: [{ path: /api/products, weight: 100, auth: public }]\n';
    expect(parsePlatform(withIdentity(undefined, open)).identity).toBeUndefined();
  });

  test('throws on a wrong auth level with its position and the two accepted values', () => {
    const text = withIdentity(
      'identity: { issuer: https://login.example/, audience: shop }',
      '  order:\n    owner: team-a\n    routes: [{ path: /api/orders, weight: 10, auth: anonymous }]\n',
    );
    expect(problems(text)).toEqual([
      "platform.yaml:12:53: services.order.routes[0].auth: must be 'customer' (a valid customer token is required) or 'public' (no token needed), got 'anonymous'",
    ]);
  });

  test('throws on a plain-http or malformed issuer, a missing audience and cognito with an issuer', () => {
    expect(problems(withIdentity('identity: { issuer: http://login.example/, audience: shop }'))).toEqual([
      expect.stringMatching(
        /^platform\.yaml:15:21: identity\.issuer: must be an https URL .*, got 'http:\/\/login\.example\/'$/,
      ),
    ]);
    expect(problems(withIdentity('identity: { issuer: https://login.example/ }'))).toEqual([
      "platform.yaml:15:11: identity.audience: is required: name the issuer's 'aud' value, or write provision: cognito to let the platform create one",
    ]);
    expect(
      problems(withIdentity('identity:\n  provision: cognito\n  issuer: https://login.example/')),
    ).toEqual([
      "platform.yaml:17:11: identity.issuer: the platform sets issuer when provision is 'cognito'; remove it, or remove provision to name your own issuer, got 'https://login.example/'",
    ]);
    expect(problems(withIdentity('identity: { provision: keycloak }'))[0]).toMatch(
      /^platform\.yaml:15:24: identity\.provision: must be 'cognito'/,
    );
    // A development issuer on the loopback interface may use http.
    expect(
      parsePlatform(withIdentity('identity: { issuer: http://127.0.0.1:4800, audience: shop }')).identity,
    ).toMatchObject({ jwksUri: 'http://127.0.0.1:4800/.well-known/jwks.json' });
  });

  test('the JSON schema describes identity and the auth levels', () => {
    const schema = JSON.stringify(platformJsonSchema());
    expect(schema).toContain('"identity"');
    expect(schema).toContain('"enum":["customer","public"]');
    expect(schema).toContain('"enum":["cognito"]');
  });
});
