import { isMap, parseDocument, stringify } from 'yaml';
import { parsePlatform } from '../model/load-platform.js';
import type { PlatformModel } from '../model/platform-model.js';
import { ValidationError } from '../model/validation-error.js';
import type { ServiceAnswers } from './service-answers.js';

/** The result of {@link registerService}: the new platform.yaml text, already validated. */
export interface ServiceRegistration {
  /** The whole new platform.yaml text. */
  readonly text: string;
  /** The model of the new text: proof that it validates. */
  readonly model: PlatformModel;
}

/**
 * Adds a new service to platform.yaml text, keeping every comment, blank line and flow style of
 * the rest of the file (the `yaml` Document API edits the syntax tree, not a re-serialized copy).
 *
 * The new entry starts with every route at weight 0: the service gets traffic only when someone
 * runs `aio route <name> <path> --weight N` after it is deployed.
 *
 * @param file the name to show in messages
 * @throws ValidationError when the service is already there
 * @throws ValidationErrors when the result does not validate (an unknown `calls` peer, a route
 *   another service owns): the caller writes nothing
 * @see https://eemeli.org/yaml/#documents
 */
export function registerService(
  text: string,
  answers: ServiceAnswers,
  file = 'platform.yaml',
): ServiceRegistration {
  const out = spliceService(text, answers, file);
  return { text: out, model: parsePlatform(out, { file }) };
}

/**
 * The text half of {@link registerService}: platform.yaml with the new entry spliced in after the
 * last service, indented like the file's own services. Not validated.
 *
 * @throws ValidationError when there is no block-style `services` mapping, or the name is taken
 */
export function spliceService(text: string, answers: ServiceAnswers, file = 'platform.yaml'): string {
  const doc = parseDocument(text);
  // Let the model report syntax errors with positions.
  if (doc.errors.length > 0) parsePlatform(text, { file });
  const services = doc.get('services', true);
  if (!isMap(services)) {
    throw new ValidationError("has no 'services' mapping; add one or pass the right --platform file", {
      file,
    });
  }
  if (services.flow) {
    throw new ValidationError(
      "is a flow mapping ({ ... }); write 'services' in block style so aio can add a service to it",
      { file, path: 'services' },
    );
  }
  if (services.has(answers.name)) {
    throw new ValidationError(
      `service '${answers.name}' is already defined; pick another name or remove it from the file first`,
      { file, path: `services.${answers.name}` },
    );
  }
  // Splice the new entry in as text after the last service: re-serializing the whole document would
  // re-flow the user's flow mappings and padding, which is their formatting, not ours.
  const last = services.items.at(-1);
  const lastEnd =
    (last?.value as { range?: [number, number, number] } | null)?.range?.[2] ?? services.range?.[1];
  if (lastEnd === undefined) throw new ValidationError("cannot find the end of 'services'", { file });
  const lineEnd = text.indexOf('\n', lastEnd - 1);
  const at = lineEnd === -1 ? text.length : lineEnd + 1;
  const first = services.items[0];
  const indent = columnOf(text, (first?.key as { range?: number[] } | null)?.range?.[0]) ?? 2;
  const firstValue = first?.value;
  const innerKey = isMap(firstValue) && !firstValue.flow ? firstValue.items[0]?.key : undefined;
  const inner = columnOf(text, (innerKey as { range?: number[] } | undefined)?.range?.[0]) ?? indent + 2;
  const block = serviceBlock(answers, ' '.repeat(indent), ' '.repeat(inner));
  return (
    text.slice(0, at) + (at === text.length && !text.endsWith('\n') ? '\n' : '') + block + text.slice(at)
  );
}

function serviceBlock(answers: ServiceAnswers, indent: string, inner: string): string {
  const lines = [
    '',
    `${indent}# Scaffolded by aio new service: routes start at weight 0; move traffic with aio route.`,
    `${indent}${scalar(answers.name)}:`,
    `${inner}owner: ${scalar(answers.owner)}`,
    `${inner}port: 8080`,
  ];
  if (answers.database !== 'none') lines.push(`${inner}database: ${answers.database}`);
  if (answers.cache !== 'none') lines.push(`${inner}cache: ${answers.cache}`);
  if (answers.calls.length > 0) lines.push(`${inner}calls: [${answers.calls.map(scalar).join(', ')}]`);
  if (answers.routes.length === 0) lines.push(`${inner}routes: []`);
  else {
    lines.push(`${inner}routes:`);
    for (const path of answers.routes) lines.push(`${inner}  - { path: ${scalar(path)}, weight: 0 }`);
  }
  return lines.join('\n') + '\n';
}

function scalar(value: string): string {
  return stringify(value).trimEnd();
}

function columnOf(text: string, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}
