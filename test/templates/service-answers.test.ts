import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../model/validation-error.js';
import {
  canonicalAnswers,
  checkAnswers,
  checkServiceName,
  suggestServiceName,
} from '../../templates/service-answers.js';
import { githubRepo } from '../../templates/resolve-answers.js';
import { BARE_ANSWERS, FULL_ANSWERS } from './fixtures.js';

describe('checkServiceName', () => {
  test('accepts DNS-1035 labels of up to 40 characters', () => {
    for (const name of ['review', 'a', 'review-digest-2', 'x'.repeat(40)]) {
      expect(() => checkServiceName(name)).not.toThrow();
    }
  });

  test('throws for a bad name and suggests a corrected one', () => {
    expect(() => checkServiceName('Review_Digest')).toThrow(
      "service name 'Review_Digest' must be a DNS-1035 label, as Kubernetes requires of a Service name: a lowercase letter first, then lowercase letters, digits and -, ending alphanumeric; try 'review-digest'",
    );
    expect(() => checkServiceName('1abc')).toThrow(
      /^service name '1abc' must be a DNS-1035 label.*; try 'svc-1abc'$/,
    );
    expect(() => checkServiceName('-orders-')).toThrow(/try 'orders'/);
    expect(() => checkServiceName('a'.repeat(41))).toThrow(
      /must be at most 40 characters \(got 41\); try 'a{40}'/,
    );
    expect(() => checkServiceName('___')).toThrow(ValidationError);
  });
});

describe('suggestServiceName', () => {
  test('lowercases, splits camel case, replaces other characters and trims to 40', () => {
    expect(suggestServiceName('ReviewDigest')).toBe('review-digest');
    expect(suggestServiceName('my service!!')).toBe('my-service');
    expect(suggestServiceName('café--bar')).toBe('cafe-bar');
    expect(suggestServiceName(`${'ab-'.repeat(14)}x`)).toBe('ab-'.repeat(13) + 'a');
    expect(suggestServiceName('***')).toBeUndefined();
  });

  test('puts svc- before a leading digit, so the name starts with a letter', () => {
    expect(suggestServiceName('1abc')).toBe('svc-1abc');
    expect(suggestServiceName('3d viewer')).toBe('svc-3d-viewer');
    expect(suggestServiceName('9'.repeat(40))).toBe(`svc-${'9'.repeat(36)}`);
  });
});

describe('checkAnswers', () => {
  test('throws for a bad owner, route or call', () => {
    expect(() => checkAnswers({ ...FULL_ANSWERS, owner: 'Team Growth' })).toThrow(
      /--owner must be a team name/,
    );
    expect(() => checkAnswers({ ...FULL_ANSWERS, routes: ['api/x'] })).toThrow(
      /--route must start with '\/'/,
    );
    expect(() => checkAnswers({ ...FULL_ANSWERS, calls: ['review-digest'] })).toThrow(/cannot call itself/);
    expect(() => checkAnswers({ ...FULL_ANSWERS, routes: ['/'] })).toThrow(
      /--route '\/' is the catch-all to the legacy monolith/,
    );
  });

  test('throws for a name or a call that starts with a digit, as Kubernetes would', () => {
    expect(() => checkAnswers({ ...FULL_ANSWERS, name: '1abc' })).toThrow(/try 'svc-1abc'/);
    expect(() => checkAnswers({ ...FULL_ANSWERS, calls: ['2fa'] })).toThrow(
      "--calls must name a service (a DNS-1035 label), got '2fa'",
    );
  });
});

describe('the token issuer answers', () => {
  test("throws for an issuer that is neither 'cognito' nor a URL, and for an issuer URL without an audience", () => {
    expect(() => checkAnswers({ ...FULL_ANSWERS, issuer: 'login.example' })).toThrow(
      "--platform must be 'cognito' (the platform's provisioned issuer) or the issuer's URL, as platform.yaml's identity names it, got 'login.example'",
    );
    expect(() => checkAnswers({ ...FULL_ANSWERS, audience: '' })).toThrow(
      "--platform must name the audience tokens of https://login.example.com/ carry, as platform.yaml's identity.audience does",
    );
    expect(() => checkAnswers({ ...FULL_ANSWERS, jwksUri: 'keys' })).toThrow(/must be the issuer's JWKS URL/);
    expect(checkAnswers({ ...BARE_ANSWERS, issuer: 'cognito', audience: '' })).toBeUndefined();
  });

  test("an older record without them gets the platform's provisioned issuer", () => {
    expect(canonicalAnswers({ name: 'notification-worker', owner: 'team-growth' })).toMatchObject({
      issuer: 'cognito',
      audience: '',
      jwksUri: '',
    });
  });
});

describe('githubRepo', () => {
  test('reads owner/name from https and ssh URLs', () => {
    expect(githubRepo('https://github.com/allinone/platform.git')).toBe('allinone/platform');
    expect(githubRepo('git@github.com:allinone/platform.git')).toBe('allinone/platform');
    expect(githubRepo('https://gitlab.com/allinone/platform.git')).toBeUndefined();
  });
});
