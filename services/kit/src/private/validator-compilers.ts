import { Ajv } from 'ajv';
import type { Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fastUri from 'fast-uri';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Fastify's own ajv options, except `coerceTypes` and `removeAdditional`, which differ per part. */
const base: Options = { useDefaults: true, uriResolver: fastUri, addUsedSchema: false, allErrors: false };

/**
 * The kit's validator compiler, strict for bodies and coercing for the parts that are text on the wire.
 *
 * - Bodies are JSON and keep their types: `"7"`, `true`, `null` and `[5]` are not the integer 7, 1, 0
 *   or 5 (Fastify's default, `coerceTypes: 'array'`, turns every one of them into a number). An
 *   `additionalProperties: false` schema refuses unknown fields instead of silently dropping them.
 * - Query strings, path parameters and headers arrive as text: they are coerced, and only to the type
 *   their schema declares (`waitMs: { type: 'integer' }` reads "250" as 250; undeclared ones stay text).
 *
 * One pair of ajv instances per app, so two apps in one process never share a schema cache.
 *
 * @see https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/#validator-compiler
 */
export function kitValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodyAjv = addFormats(new Ajv({ ...base, coerceTypes: false, removeAdditional: false }));
  const textAjv = addFormats(new Ajv({ ...base, coerceTypes: true, removeAdditional: false }));
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
