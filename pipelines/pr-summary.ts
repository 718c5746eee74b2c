import type { RouteRow } from '../model/index.js';

/** Hidden marker that identifies the summary comment, so later pushes edit it instead of adding one. */
export const PR_SUMMARY_MARKER = '<!-- aio-pr-summary -->';

/** Resource changes of one stack, counted from `cdk diff` output. */
export interface StackDiff {
  readonly env: string;
  readonly stack: string;
  readonly added: number;
  readonly modified: number;
  readonly removed: number;
  /** Modified resources that CloudFormation will (or may) replace: the risky ones. */
  readonly replaced: number;
}

/** One path whose split between service and monolith changes. */
export interface RouteShift {
  readonly path: string;
  readonly service?: string;
  /** Percent to the service before; undefined when the path is new. */
  readonly before?: number;
  /** Percent to the service after; undefined when the path is gone. */
  readonly after?: number;
}

/**
 * Counts added, modified, removed and replaced resources per stack in `cdk diff` text output.
 *
 * Reads the `Stack <name>` headings and the `[+]`, `[~]`, `[-]` resource lines; a modified
 * resource line ending in `replace` or `may be replaced` counts as replaced too. Stacks without
 * differences are left out.
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-diff.html
 */
export function parseCdkDiff(env: string, text: string): StackDiff[] {
  const out: StackDiff[] = [];
  let current: { -readonly [K in keyof StackDiff]: StackDiff[K] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
    const stack = /^Stack (\S+)/.exec(line);
    if (stack) {
      current = { env, stack: stack[1]!, added: 0, modified: 0, removed: 0, replaced: 0 };
      out.push(current);
      continue;
    }
    const resource = /^\[([+~-])\] ([A-Za-z0-9]+::\S+) /.exec(line);
    if (!resource || !current) continue;
    if (resource[1] === '+') current.added++;
    else if (resource[1] === '-') current.removed++;
    else current.modified++;
    if (resource[1] === '~' && /\s(replace|may be replaced)\s*$/.test(line)) current.replaced++;
  }
  return out.filter((s) => s.added + s.modified + s.removed > 0);
}

/**
 * The paths whose service share differs between two `aio routes --json` tables, sorted by path.
 * The catch-all `/` row is left out: it always sends the rest to the monolith.
 */
export function routeShifts(before: readonly RouteRow[], after: readonly RouteRow[]): RouteShift[] {
  const key = (r: RouteRow) => r.path;
  const b = new Map(before.filter((r) => r.service).map((r) => [key(r), r]));
  const a = new Map(after.filter((r) => r.service).map((r) => [key(r), r]));
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort();
  return paths.flatMap((path) => {
    const x = b.get(path);
    const y = a.get(path);
    if (x && y && x.servicePercent === y.servicePercent && x.service === y.service) return [];
    return [{ path, service: y?.service ?? x?.service, before: x?.servicePercent, after: y?.servicePercent }];
  });
}

/**
 * The PR comment body: resources changed per environment and stack, and route weights shifted.
 */
export function formatPrSummary(diffs: readonly StackDiff[], shifts: readonly RouteShift[]): string {
  const lines = [PR_SUMMARY_MARKER, '### aio: what this pull request changes', ''];
  lines.push('**Resources** (`cdk diff`)', '');
  if (diffs.length === 0) {
    lines.push('No resource changes in any environment.');
  } else {
    lines.push(
      '| env | stack | added | modified | removed | replaced |',
      '| --- | --- | --: | --: | --: | --: |',
    );
    for (const d of diffs) {
      const replaced = d.replaced ? `**${d.replaced}** ⚠️` : '0';
      lines.push(`| ${d.env} | ${d.stack} | ${d.added} | ${d.modified} | ${d.removed} | ${replaced} |`);
    }
  }
  lines.push('', '**Route weights** (`aio routes`, base → this branch)', '');
  if (shifts.length === 0) {
    lines.push('No route weights shifted.');
  } else {
    lines.push('| path | service | before | after | monolith after |', '| --- | --- | --: | --: | --: |');
    const pct = (n?: number) => (n === undefined ? '–' : `${n}%`);
    for (const s of shifts) {
      const monolith = s.after === undefined ? '100%' : `${100 - s.after}%`;
      lines.push(`| ${s.path} | ${s.service ?? ''} | ${pct(s.before)} | ${pct(s.after)} | ${monolith} |`);
    }
  }
  return lines.join('\n') + '\n';
}
