import { HttpProblem } from './problem.js';

/**
 * The limits every service applies to what callers send, in one place, so that a caller (the order
 * service) refuses up front exactly what its participants (inventory, payment) would refuse later.
 *
 * Each is a JSON Schema fragment for a route's `schema.body` / `params` / `querystring` / `headers`.
 * Strings are ASCII with a bounded length (no NUL, no control characters: Postgres `text` refuses
 * NUL, and unbounded keys overflow a btree row); numbers are bounded so that sums fit the columns
 * (`integer`, `numeric(14,2)`, `bigint` minor units).
 */
export const requestLimits = {
  /** Characters of a SKU. */
  skuMaxLength: 64,
  /** Characters of an order, payment or reservation id. */
  idMaxLength: 128,
  /** Characters of a customer id. */
  customerIdMaxLength: 128,
  /** Characters of a payment token. */
  tokenMaxLength: 255,
  /** Characters of an `Idempotency-Key` header. */
  idempotencyKeyMaxLength: 255,
  /** Units of one line. */
  quantityMax: 100_000,
  /** Lines of one order or reservation. */
  linesMax: 50,
  /** Units a SKU may hold (admin `PUT /stock`). */
  stockMax: 1_000_000_000,
  /** Largest amount of one payment or one price, in major units (10 million). */
  amountMax: 10_000_000,
} as const;

/** `[A-Za-z0-9._:-]`, 1–64: SKUs are also Redis key parts and the `*`/`,` separators stay free. */
export const skuSchema = {
  type: 'string',
  pattern: `^[A-Za-z0-9._:-]{1,${requestLimits.skuMaxLength}}$`,
} as const;

/** `[A-Za-z0-9._:-]`, 1–128: order, reservation and payment ids (UUIDs fit). */
export const resourceIdSchema = {
  type: 'string',
  pattern: `^[A-Za-z0-9._:-]{1,${requestLimits.idMaxLength}}$`,
} as const;

/** Printable ASCII without spaces (`!`–`~`), 1–128: subjects, e-mail addresses, `crash:` tags. */
export const customerIdSchema = {
  type: 'string',
  pattern: `^[!-~]{1,${requestLimits.customerIdMaxLength}}$`,
} as const;

/** Printable ASCII without spaces, 1–255: PSP tokens (`tok_visa`, `pm_...`). */
export const paymentTokenSchema = {
  type: 'string',
  pattern: `^[!-~]{1,${requestLimits.tokenMaxLength}}$`,
} as const;

/** Printable ASCII without spaces, 1–255: the saga's `<sagaId>:<step>` and client UUIDs fit. */
export const idempotencyKeySchema = {
  type: 'string',
  pattern: `^[!-~]{1,${requestLimits.idempotencyKeyMaxLength}}$`,
} as const;

/** An integer from 1 to 100,000. */
export const quantitySchema = { type: 'integer', minimum: 1, maximum: requestLimits.quantityMax } as const;

/** An integer from 0 to 1,000,000,000. */
export const stockLevelSchema = { type: 'integer', minimum: 0, maximum: requestLimits.stockMax } as const;

/**
 * A positive amount in major units, at most 10,000,000. Decimals depend on the currency, which
 * JSON Schema cannot see: check them with {@link toMinorUnits}.
 */
export const moneySchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: requestLimits.amountMax,
} as const;

/** Three upper-case letters; {@link toMinorUnits} also requires an ISO 4217 code. */
export const currencySchema = { type: 'string', pattern: '^[A-Z]{3}$' } as const;

/** An array of 1 to 50 lines. */
export function linesSchema<T extends object>(line: T) {
  return { type: 'array', minItems: 1, maxItems: requestLimits.linesMax, items: line } as const;
}

/** `schema.headers` for a route that honours `Idempotency-Key`: bounded, printable ASCII. */
export const idempotencyHeadersSchema = {
  type: 'object',
  properties: { 'idempotency-key': idempotencyKeySchema },
} as const;

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));

/**
 * The number of decimals of a currency (ISO 4217 minor units: USD 2, JPY 0, KWD 3), from ICU.
 *
 * @see https://www.iso.org/iso-4217-currency-codes.html
 */
export function currencyDecimals(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits!;
}

/**
 * An amount in the currency's minor units (cents for USD, yen for JPY). Throws a 400 problem naming
 * `field` (and `currencyField` for an unknown currency) when the amount has more decimals than the
 * currency, e.g. `items[0].unitPrice: must have at most 2 decimals for USD, got 0.004`.
 */
export function toMinorUnits(
  amount: number,
  currency: string,
  field: string,
  currencyField = 'currency',
): number {
  if (!knownCurrencies.has(currency)) {
    throw invalidField(currencyField, `must be an ISO 4217 currency code, got ${JSON.stringify(currency)}`);
  }
  const decimals = currencyDecimals(currency);
  const minor = Math.round(amount * 10 ** decimals);
  // 49.99 * 100 is 4998.999999999999 in binary floats, but 4999 / 100 is again exactly the double
  // 49.99: an amount has at most `decimals` decimals when its minor units divide back to it.
  if (!Number.isSafeInteger(minor) || minor / 10 ** decimals !== amount) {
    throw invalidField(field, `must have at most ${decimals} decimals for ${currency}, got ${amount}`);
  }
  return minor;
}

/** Inverse of {@link toMinorUnits}. */
export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** currencyDecimals(currency);
}

/** A 400 problem for one field, shaped like the kit's validation problems (`invalid-params`). */
export function invalidField(name: string, reason: string): HttpProblem {
  return new HttpProblem(400, `${name}: ${reason}`, { 'invalid-params': [{ name, reason }] });
}
