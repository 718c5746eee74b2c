import { SignJWT } from 'jose';
import { Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  claimedSubject,
  cohortBucket,
  EdgeCohort,
  SUBJECT_CUSTOMER_PREFIX,
} from '../../charts/edge-cohort.js';

// The one bucket function shared by Kong's cohort function (Lua) and the local gateway's verifier (TS).
describe('cohortBucket', () => {
  test('is CRC-32 (zlib, ngx.crc32_long) of the id modulo 100', () => {
    // the CRC-32 check value: crc32("123456789") = 0xCBF43926
    expect(cohortBucket('123456789')).toBe(0xcbf43926 % 100);
    // crc32("The quick brown fox jumps over the lazy dog") = 0x414FA339
    expect(cohortBucket('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339 % 100);
  });

  test("is what Kong's function computes: the same prefix, CRC-32 and modulus in the Lua", () => {
    const chart = Testing.chart();
    new EdgeCohort(chart, 'Cohort');
    const [plugin] = Testing.synth(chart) as { config: { rewrite: string[] } }[];
    const lua = plugin!.config.rewrite[0]!;
    expect(lua).toContain(`id = '${SUBJECT_CUSTOMER_PREFIX}' .. claims.sub`);
    expect(lua).toContain('tostring(ngx.crc32_long(id) % 100)');
  });
});

describe('claimedSubject', () => {
  const unsigned = async (claims: Record<string, unknown>) =>
    `${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32))}`;

  test("reads the sub of a bearer token's payload without verifying it, as Kong's Lua does", async () => {
    const t = await unsigned({ sub: 'alice' });
    expect(claimedSubject(`Bearer ${t}`)).toBe('alice');
    expect(claimedSubject(`bearer  ${t}`)).toBe('alice');
  });

  test('gives nothing for no token, another scheme, an undecodable payload or no usable sub', async () => {
    expect(claimedSubject(undefined)).toBeUndefined();
    expect(claimedSubject(`Basic ${await unsigned({ sub: 'alice' })}`)).toBeUndefined();
    expect(claimedSubject('Bearer a.!!!.c')).toBeUndefined();
    expect(claimedSubject('Bearer a.bm90IGpzb24.c')).toBeUndefined(); // "not json"
    expect(claimedSubject(`Bearer ${await unsigned({ sub: '' })}`)).toBeUndefined();
    expect(claimedSubject(`Bearer ${await unsigned({ sub: 42 })}`)).toBeUndefined();
  });
});
