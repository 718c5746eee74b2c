import { DNS_LABEL, isValidServiceName } from '../model/dns-name.js';
import { routePathProblem } from '../model/route-path.js';
import { renderValue } from '../model/validation-error.js';
import { checkServiceName, type ServiceAnswers } from './service-answers.js';

/** A field of the answers. */
export type AnswerField = keyof ServiceAnswers;

/** One problem with one answer, in the user's terms but without saying where the value came from. */
export interface AnswerProblem {
  /** The answer, e.g. `owner`. */
  readonly field: AnswerField;
  /** The item of a list answer (`routes`, `calls`). */
  readonly index?: number;
  /** What is wrong and what to do: `must be a team name such as 'team-commerce'`. */
  readonly message: string;
  /** The value as received, rendered for display (`'Team Growth'`), when the message does not quote it. */
  readonly got?: string;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const GITHUB_REPO = /^[\w.-]+\/[\w.-]+$/;

/** Rules for the single-valued answers: the message when `value` is refused, else `undefined`. */
const RULES: Readonly<Record<Exclude<AnswerField, 'routes' | 'calls'>, (v: string) => string | undefined>> = {
  name: (v) => {
    try {
      checkServiceName(v);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
  owner: (v) => (DNS_LABEL.test(v) ? undefined : "must be a team name such as 'team-commerce'"),
  database: (v) => (v === 'postgres' || v === 'none' ? undefined : "must be 'postgres' or 'none'"),
  cache: (v) => (v === 'redis' || v === 'none' ? undefined : "must be 'redis' or 'none'"),
  platform: (v) =>
    DNS_LABEL.test(v) && v.length <= 40 ? undefined : "must be the platform's name, a DNS-1123 label",
  platformRepo: (v) => (GITHUB_REPO.test(v) ? undefined : "must be 'owner/name', e.g. 'allinone/platform'"),
  account: (v) => (/^\d{12}$/.test(v) ? undefined : 'must be a 12-digit AWS account id, quoted'),
  region: (v) => (REGION.test(v) ? undefined : "must be an AWS region such as 'ap-northeast-2'"),
  registry: (v) =>
    /^https?:\/\/[\w.-]+(:\d+)?(\/[\w.~%-]*)*\/$/.test(v)
      ? undefined
      : "must be an npm registry URL ending in '/', e.g. 'http://localhost:4873/'",
  issuer: (v) =>
    v === 'cognito' || isUrl(v)
      ? undefined
      : "must be 'cognito' (the platform's provisioned issuer) or the issuer's URL, as platform.yaml's identity names it",
  audience: (v) =>
    /^[!-~]{0,256}$/.test(v) ? undefined : 'must be the audience tokens carry, without spaces',
  jwksUri: (v) =>
    v === '' || isUrl(v) ? undefined : "must be the issuer's JWKS URL, or empty for the default",
};

function isUrl(v: string): boolean {
  return /^https?:\/\/\S+$/.test(v) && URL.canParse(v);
}

/**
 * The problem with one route path or called service, or `undefined`.
 *
 * @param self the service's own name, which it may not call
 */
export function listItemProblem(field: 'routes' | 'calls', value: string, self?: string): string | undefined {
  if (field === 'routes') return routePathProblem(value);
  if (!isValidServiceName(value)) return 'must name a service (a DNS-1035 label)';
  if (value === self) return 'a service cannot call itself; remove this entry';
  return undefined;
}

/**
 * The problem with one single-valued answer, or `undefined`: what a prompt shows while the user
 * is still typing, and what `aio new` and `aio update` report.
 */
export function answerProblem(
  field: Exclude<AnswerField, 'routes' | 'calls'>,
  value: string,
): string | undefined {
  return RULES[field](value);
}

/**
 * Every problem in a set of answers, in field order. The answers may come from untrusted JSON
 * (`.aio/scaffold.json`), so types are checked too: a number where a string belongs is a problem,
 * never coerced.
 */
export function answerProblems(input: object): AnswerProblem[] {
  const answers = input as Readonly<Record<string, unknown>>;
  const problems: AnswerProblem[] = [];
  for (const field of Object.keys(RULES) as (keyof typeof RULES)[]) {
    const value = answers[field];
    if (typeof value !== 'string') {
      problems.push({ field, message: 'must be a string', got: renderValue(value) });
      continue;
    }
    const message = RULES[field](value);
    // The name's message already quotes the value and suggests a fix.
    if (message) problems.push({ field, message, got: field === 'name' ? undefined : renderValue(value) });
  }
  for (const field of ['routes', 'calls'] as const) {
    const list = answers[field];
    if (!Array.isArray(list)) {
      problems.push({ field, message: 'must be a list of strings', got: renderValue(list) });
      continue;
    }
    list.forEach((item: unknown, index) => {
      const message =
        typeof item === 'string'
          ? listItemProblem(field, item, typeof answers.name === 'string' ? answers.name : undefined)
          : 'must be a string';
      if (message) problems.push({ field, index, message, got: renderValue(item) });
    });
  }
  if (typeof answers.issuer === 'string' && answers.issuer !== 'cognito' && answers.audience === '') {
    problems.push({
      field: 'audience',
      message: `must name the audience tokens of ${answers.issuer} carry, as platform.yaml's identity.audience does`,
      got: "''",
    });
  }
  const order = ['name', 'owner', 'database', 'cache', 'routes', 'calls'];
  const rank = (f: string) => (order.includes(f) ? order.indexOf(f) : order.length);
  return problems.sort((a, b) => rank(a.field) - rank(b.field));
}
