import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { crossCheck } from './cross-checks.js';
import { suggestName, suggestServiceName } from './dns-name.js';
import { nearestName } from './nearest-name.js';
import { PlatformModel } from './platform-model.js';
import { platformSchema, type PlatformSpec } from './schema.js';
import { formatPath, SourcePositions, type FieldPath } from './source-positions.js';
import { renderValue, ValidationError, ValidationErrors } from './validation-error.js';

/** Options for {@link parsePlatform}. */
export interface ParsePlatformOptions {
  /**
   * The file name shown in error positions.
   *
   * @default 'platform.yaml'
   */
  readonly file?: string;
}

/**
 * Reads, parses and validates a platform.yaml file.
 *
 * @throws ValidationErrors with every problem found, each with file:line:col, when the file is invalid
 * @throws ValidationError when the file cannot be read
 */
export function loadPlatform(file: string): PlatformModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`;
    throw new ValidationError(`${why}; check the path to the platform definition`, { file });
  }
  return parsePlatform(text, { file });
}

/**
 * Parses and validates platform.yaml text. All problems are reported at once.
 *
 * @throws ValidationErrors when the text is invalid
 */
export function parsePlatform(text: string, options: ParsePlatformOptions = {}): PlatformModel {
  const file = options.file ?? 'platform.yaml';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });

  const syntaxErrors = doc.errors.map((e) => yamlProblem(e, file, lines));
  if (syntaxErrors.length > 0) throw new ValidationErrors(syntaxErrors);

  const positions = new SourcePositions(doc, lines);
  const data = documentData(doc, file, lines);
  if (data === null || data === undefined) {
    throw new ValidationErrors([
      new ValidationError('the file is empty; start from the reference platform.yaml in the aio repo', {
        file,
        line: 1,
        col: 1,
      }),
    ]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationErrors([
      new ValidationError(
        'must be a mapping with platform, environments, legacy, gateway and services',
        { file, line: 1, col: 1 },
        renderValue(data),
      ),
    ]);
  }

  const result = platformSchema.safeParse(data, { error: houseMessage });
  const problems: ValidationError[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...issueToProblems(issue, file, positions));
  }
  for (const c of crossCheck(data)) {
    const at = positions.valueAt(c.path);
    problems.push(new ValidationError(c.message, { file, ...at, path: formatPath(c.path) }, c.got));
  }
  if (problems.length > 0) throw new ValidationErrors(sortByPosition(dedupe(problems)));
  return new PlatformModel(result.data as PlatformSpec, file);
}

/**
 * The document as plain data. Aliases are resolved here, so an alias to a missing anchor or an
 * alias bomb becomes a positioned problem instead of an exception.
 */
function documentData(doc: Document, file: string, lines: LineCounter): unknown {
  const problems: ValidationError[] = [];
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) === undefined) {
        const at = lines.linePos(node.range?.[0] ?? 0);
        problems.push(
          new ValidationError(
            `invalid YAML: alias '*${node.source}' refers to no anchor; define '&${node.source}' before using it`,
            { file, ...at },
          ),
        );
      }
    },
  });
  if (problems.length > 0) throw new ValidationErrors(problems);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ValidationErrors([
      new ValidationError(
        `invalid YAML: ${detail.charAt(0).toLowerCase()}${detail.slice(1).replace(/\.$/, '')}`,
        {
          file,
          line: 1,
          col: 1,
        },
      ),
    ]);
  }
}

function yamlProblem(e: YAMLError, file: string, lines: LineCounter): ValidationError {
  const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
  const msg = e.code === 'DUPLICATE_KEY' ? duplicateKeyMessage(e.message) : yamlMessage(e.message);
  return new ValidationError(msg, { file, line: pos.line, col: pos.col });
}

function duplicateKeyMessage(raw: string): string {
  void raw;
  return 'duplicate key: each key may appear once in a mapping; merge or rename the second one';
}

function yamlMessage(raw: string): string {
  const first = raw.split('\n')[0] ?? raw;
  const clean = first.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
  return `invalid YAML: ${clean.charAt(0).toLowerCase()}${clean.slice(1)}`;
}

function issueToProblems(
  issue: z.core.$ZodIssue,
  file: string,
  positions: SourcePositions,
): ValidationError[] {
  const path = issue.path as FieldPath;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(path);
    return issue.keys.map((key) => {
      const suggestion = nearestName(key, known);
      const hint = suggestion
        ? `did you mean '${suggestion}'?`
        : `known keys are ${known.map((k) => `'${k}'`).join(', ')}`;
      return new ValidationError(`'${key}' is not a known key; ${hint}`, {
        file,
        ...positions.keyAt(path, key),
        path: formatPath([...path, key]),
      });
    });
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const parent = path.slice(0, -1);
    const isService = parent.length === 1 && parent[0] === 'services';
    const suggestion = isService ? suggestServiceName(key) : suggestName(key);
    const detail = issue.issues[0]?.message ?? 'is not a valid name';
    return [
      new ValidationError(
        `name ${detail}${suggestion ? `; try '${suggestion}'` : ''}`,
        { file, ...positions.keyAt(parent, key), path: formatPath(path) },
        renderValue(key),
      ),
    ];
  }
  const raw = positions.rawAt(path);
  const missing = raw === undefined;
  // A custom issue names the missing field itself, with what to write.
  const message = missing && issue.code !== 'custom' ? 'is required' : issue.message;
  return [
    new ValidationError(
      message,
      { file, ...positions.valueAt(path), path: formatPath(path) },
      missing && issue.code === 'custom' ? undefined : renderValue(raw),
    ),
  ];
}

/** The contextual error map: default zod messages rewritten in the house style. */
function houseMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${article(String(issue.expected))}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must have at least ${issue.minimum} entries`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `must have at most ${issue.maximum} entries`
        : `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}`;
    default:
      return undefined;
  }
}

function article(expected: string): string {
  const name =
    expected === 'int'
      ? 'integer'
      : expected === 'object'
        ? 'mapping'
        : expected === 'array'
          ? 'list'
          : expected;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** The keys the schema allows at `path`, to suggest the nearest one for a typo. */
function knownKeysAt(path: FieldPath): string[] {
  let schema: unknown = platformSchema;
  for (const key of [...path, undefined]) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (key === undefined) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(key)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  return [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { _zod?: { def?: Record<string, unknown> } } | undefined;
  for (;;) {
    const def = s?._zod?.def;
    if (!def) return s;
    if (
      def.type === 'optional' ||
      def.type === 'default' ||
      def.type === 'nullable' ||
      def.type === 'prefault'
    ) {
      s = def.innerType as typeof s;
    } else if (def.type === 'pipe') {
      s = def.in as typeof s;
    } else {
      return s;
    }
  }
}

function dedupe(problems: ValidationError[]): ValidationError[] {
  const seen = new Set<string>();
  return problems.filter((p) => (seen.has(p.message) ? false : (seen.add(p.message), true)));
}

function sortByPosition(problems: ValidationError[]): ValidationError[] {
  return [...problems].sort(
    (a, b) =>
      (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.col ?? 0) - (b.location.col ?? 0),
  );
}
