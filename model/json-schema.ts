import { z } from 'zod';
import { platformSchema } from './schema.js';

/**
 * The JSON Schema of platform.yaml (draft 2020-12), for editors through the
 * `# yaml-language-server: $schema=./platform.schema.json` comment.
 *
 * Describes the input form: fields with defaults are optional.
 *
 * @see https://github.com/redhat-developer/yaml-language-server#using-inlined-schema
 */
export function platformJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(platformSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://allinone.example/schemas/platform.schema.json',
    title: 'aio platform.yaml',
  };
}
