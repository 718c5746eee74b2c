import {
  DNS_LABEL,
  isValidServiceName,
  MAX_NAME_LENGTH,
  SERVICE_NAME_MESSAGE,
  suggestServiceName as suggestModelServiceName,
} from '../model/dns-name.js';
import { routePathProblem } from '../model/route-path.js';
import { UsageError, ValidationError } from '../model/validation-error.js';

/**
 * What a developer tells `aio new service`: everything a render needs, and what
 * `.aio/scaffold.json` stores so `aio update` can render the same repo again later.
 */
export interface ServiceAnswers {
  /** Service name: a DNS-1035 label of at most 40 characters. */
  readonly name: string;
  /** Owning team, e.g. `team-growth`: CODEOWNERS, catalog-info.yaml and platform.yaml use it. */
  readonly owner: string;
  /** The service's own database. */
  readonly database: 'postgres' | 'none';
  /** The service's own Redis. */
  readonly cache: 'redis' | 'none';
  /** Path prefixes the gateway sends to this service (at weight 0 until `aio route` moves traffic). */
  readonly routes: readonly string[];
  /** Services this one calls; the mesh denies every other call. */
  readonly calls: readonly string[];
  /** The platform the service joins: its name prefixes ECR repositories and secrets. */
  readonly platform: string;
  /** The platform repository (`owner/repo` on GitHub) that CI opens image-promotion pull requests against. */
  readonly platformRepo: string;
  /** AWS account of the service's ECR repository (the platform's first environment). */
  readonly account: string;
  /** AWS region of the service's ECR repository. */
  readonly region: string;
}

/** Values a developer must give; everything else has a default. */
export const REQUIRED_ANSWERS = ['name', 'owner'] as const;

/** The flag that sets each answer, for messages. */
export const ANSWER_FLAGS: Readonly<Record<keyof ServiceAnswers, string>> = {
  name: '<name>',
  owner: '--owner <team>',
  database: '--database postgres|none',
  cache: '--cache redis|none',
  routes: '--route <path>',
  calls: '--calls <service>',
  platform: '--platform <platform.yaml>',
  platformRepo: '--platform <platform.yaml>',
  account: '--platform <platform.yaml>',
  region: '--platform <platform.yaml>',
};

/** Defaults for the answers nobody gave (outside a platform repo). */
export const ANSWER_DEFAULTS = {
  database: 'none',
  cache: 'none',
  routes: [] as string[],
  calls: [] as string[],
  platform: 'allinone',
  platformRepo: 'allinone/platform',
  /** A placeholder: edit `.aio/scaffold.json` and run `aio update --write`, or generate with `--platform`. */
  account: '000000000000',
  region: 'ap-northeast-2',
} as const;

/**
 * The nearest valid service name to `name` (a DNS-1035 label): lowercased, other characters turned
 * into `-`, cut to 40 characters, and `svc-` in front of a leading digit. `undefined` when nothing
 * is left.
 */
export const suggestServiceName = suggestModelServiceName;

/**
 * Checks a service name: a DNS-1035 label of at most 40 characters (Kubernetes Service names must
 * start with a letter), the same rule as platform.yaml's.
 *
 * @throws ValidationError with a suggested corrected name
 */
export function checkServiceName(name: string): void {
  if (isValidServiceName(name)) return;
  const why =
    name.length > MAX_NAME_LENGTH
      ? `must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})`
      : SERVICE_NAME_MESSAGE;
  const suggestion = suggestServiceName(name);
  const hint = suggestion ? `; try '${suggestion}'` : '; use lowercase letters, digits and -';
  throw new ValidationError(`service name '${name}' ${why}${hint}`);
}

/**
 * Checks a complete set of answers, reporting the first problem in the user's terms.
 *
 * @throws ValidationError for a bad name, owner, route or call
 * @throws UsageError for a value outside the allowed choices
 */
export function checkAnswers(answers: ServiceAnswers): void {
  checkServiceName(answers.name);
  if (!DNS_LABEL.test(answers.owner)) {
    throw new ValidationError(
      "--owner must be a team name such as 'team-commerce'",
      {},
      `'${answers.owner}'`,
    );
  }
  if (answers.database !== 'postgres' && answers.database !== 'none') {
    throw new UsageError(`--database must be 'postgres' or 'none', got '${answers.database}'`);
  }
  if (answers.cache !== 'redis' && answers.cache !== 'none') {
    throw new UsageError(`--cache must be 'redis' or 'none', got '${answers.cache}'`);
  }
  for (const route of answers.routes) {
    const problem = routePathProblem(route);
    if (problem) throw new ValidationError(`--route ${problem}`, {}, `'${route}'`);
  }
  for (const peer of answers.calls) {
    if (!isValidServiceName(peer)) {
      throw new ValidationError('--calls must name a service (a DNS-1035 label)', {}, `'${peer}'`);
    }
    if (peer === answers.name) {
      throw new ValidationError('--calls: a service cannot call itself; remove this entry', {}, `'${peer}'`);
    }
  }
}

/**
 * The answers in their canonical key order, defaults filled in: what `.aio/scaffold.json` stores.
 * Answers stored by an older template may lack newer keys; they get the defaults.
 */
export function canonicalAnswers(
  answers: Partial<ServiceAnswers> & Pick<ServiceAnswers, 'name' | 'owner'>,
): ServiceAnswers {
  return {
    name: answers.name,
    owner: answers.owner,
    database: answers.database ?? ANSWER_DEFAULTS.database,
    cache: answers.cache ?? ANSWER_DEFAULTS.cache,
    routes: [...(answers.routes ?? ANSWER_DEFAULTS.routes)],
    calls: [...(answers.calls ?? ANSWER_DEFAULTS.calls)],
    platform: answers.platform ?? ANSWER_DEFAULTS.platform,
    platformRepo: answers.platformRepo ?? ANSWER_DEFAULTS.platformRepo,
    account: answers.account ?? ANSWER_DEFAULTS.account,
    region: answers.region ?? ANSWER_DEFAULTS.region,
  };
}
