import { parseDocument } from 'yaml';
import { parsePlatform } from '../model/load-platform.js';
import type { PlatformModel } from '../model/platform-model.js';
import { PlatformSourceEditor, type SourceMapping } from '../model/platform-source-editor.js';
import { normalizeRoutePath } from '../model/route-path.js';
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
 * the rest of the file (through `PlatformSourceEditor`, which splices at the syntax tree's source
 * ranges instead of re-serializing).
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
 * The text half of {@link registerService}: platform.yaml with the new entry added after the last
 * service by the platform.yaml editor, indented like the file's own services. Not validated.
 *
 * @throws ValidationError when there is no block-style `services` mapping, or the name is taken
 */
export function spliceService(text: string, answers: ServiceAnswers, file = 'platform.yaml'): string {
  // Let the model report syntax errors with positions.
  if (parseDocument(text).errors.length > 0) parsePlatform(text, { file });
  const editor = new PlatformSourceEditor(text, file);
  editor.addService(answers.name, serviceEntry(answers), {
    comment: 'Scaffolded by aio new service: routes start at weight 0; move traffic with aio route.',
  });
  return editor.text;
}

/** The new service's platform.yaml entry: what differs from the defaults, routes at weight 0. */
function serviceEntry(answers: ServiceAnswers): SourceMapping {
  return {
    owner: answers.owner,
    port: 8080,
    ...(answers.database !== 'none' && { database: answers.database }),
    ...(answers.cache !== 'none' && { cache: answers.cache }),
    ...(answers.calls.length > 0 && { calls: [...answers.calls] }),
    routes: answers.routes.map((path) => ({ path: normalizeRoutePath(path), weight: 0 })),
  };
}
