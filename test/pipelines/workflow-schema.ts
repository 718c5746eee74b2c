import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const schemaFile = fileURLToPath(new URL('../fixtures/github-workflow.schema.json', import.meta.url));

/** Validates a rendered workflow (YAML text) against the SchemaStore schema; returns the problems. */
export function workflowSchemaErrors(yamlText: string): string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  if (validate(parse(yamlText))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Every `uses:` value in a parsed workflow. */
export function usesOf(workflow: { jobs: Record<string, { steps?: { uses?: string }[] }> }): string[] {
  return Object.values(workflow.jobs).flatMap((j) =>
    (j.steps ?? []).flatMap((s) => (s.uses ? [s.uses] : [])),
  );
}
