import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * fast-check arbitraries for property tests over request bodies: each field is either valid or one
 * of the inputs that used to reach state or give a 500 (NUL, 4.8 kB strings, non-ASCII, 2^53+1,
 * 1e12, 1e300, sub-cent prices, `null`, `true`, `"7"`, `[5]`, objects).
 */

/** How many cases each endpoint's property runs: enough to meet every kind of bad field, quick. */
export const CASES = Number(process.env.AIO_PROPERTY_CASES ?? 80);

/** Counts the cases that ran, per suite, for the report. */
export const casesRun = { count: 0 };

/** Strings the limits must refuse. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constant('a\u0000b'),
  fc.constant('x'.repeat(4800)),
  fc.constant('é-ü'),
  fc.constant('a b'),
  fc.constant('\u202e'),
  fc.string({ minLength: 0, maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
);

/** Numbers the limits must refuse (or, for some fields, accept at their edge). */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    2 ** 53 + 1,
    1e12,
    1e300,
    -1,
    0,
    0.004,
    1.5,
    -0.01,
    Number.MAX_SAFE_INTEGER,
    100_001,
    10_000_000.01,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any value of the wrong type: what a JSON body must not coerce. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, '7', '49.99', [5], {}, [], '1'),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

/** Any hostile value, whatever the field. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, wrongType);

/** The field's valid values most of the time, a hostile value otherwise. */
export function field<T>(valid: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight }, { arbitrary: hostile, weight: 1 });
}

/**
 * A body built from `fields`, sometimes without one of them, sometimes with an unknown one, and now
 * and then not an object at all.
 */
export function body(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  const shaped = fc
    .tuple(
      fc.record(fields),
      fc.option(fc.constantFrom(...keys), { freq: 6 }),
      fc.option(hostile, { freq: 8 }),
    )
    .map(([record, drop, extra]) => {
      const out: Record<string, unknown> = { ...record };
      if (drop !== null) delete out[drop];
      if (extra !== null) out.unexpected = extra;
      return out;
    });
  return fc.oneof({ arbitrary: shaped, weight: 12 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
}

/** An HTTP answer as the property tests judge it. */
export interface Answer {
  readonly status: number;
  readonly type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Sends a JSON body (or a bodiless request with a JSON content type) and reads the answer. */
export async function send(
  url: string,
  method: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: payload === undefined ? '' : JSON.stringify(payload),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

/** A refusal is a 4xx problem document; nothing in the 5xx range is ever an answer to input. */
export function expectNoServerError(answer: Answer, what: unknown): void {
  expect(
    answer.status,
    `${JSON.stringify(what)?.slice(0, 300)} → ${JSON.stringify(answer.body)?.slice(0, 300)}`,
  ).toBeLessThan(500);
  if (answer.status >= 400 && answer.status < 500 && answer.type.startsWith('application/problem+json')) {
    expect(typeof answer.body.detail).toBe('string');
  }
}

/** True when the answer is a 4xx problem+json (which must leave state unchanged). */
export function isProblem(answer: Answer): boolean {
  return answer.status >= 400 && answer.status < 500 && answer.type.startsWith('application/problem+json');
}
