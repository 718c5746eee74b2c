import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const schemaFile = fileURLToPath(new URL('../fixtures/github-workflow.schema.json', import.meta.url));

let validator: ValidateFunction | undefined;

/** Validates a rendered workflow (YAML text) against the SchemaStore schema; returns the problems. */
export function workflowSchemaErrors(yamlText: string): string[] {
  if (!validator) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  }
  if (validator(parse(yamlText))) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Every `uses:` value in a parsed workflow. */
export function usesOf(workflow: { jobs: Record<string, { steps?: { uses?: string }[] }> }): string[] {
  return Object.values(workflow.jobs).flatMap((j) =>
    (j.steps ?? []).flatMap((s) => (s.uses ? [s.uses] : [])),
  );
}
