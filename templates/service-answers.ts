import {
  isValidServiceName,
  MAX_NAME_LENGTH,
  SERVICE_NAME_MESSAGE,
  suggestServiceName as suggestModelServiceName,
} from '../model/dns-name.js';
import { naming } from '../model/naming.js';
import { UsageError, ValidationError } from '../model/validation-error.js';
import { answerProblems } from './answer-rules.js';

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
  /**
   * The npm registry `@aio/*` is installed from (the generated `.npmrc`): the platform's
   * CodeArtifact repository, or `--registry <url>`.
   */
  readonly registry: string;
  /**
   * The customer token issuer the service checks (`AUTH_ISSUER`): `cognito` for the platform's
   * provisioned user pool (`identity: { provision: cognito }`, read from its identity secret), else
   * the issuer URL platform.yaml's `identity.issuer` names.
   */
  readonly issuer: string;
  /** The audience tokens must carry (`AUTH_AUDIENCE`), for an issuer URL; empty for `cognito`. */
  readonly audience: string;
  /** The issuer's JWKS (`AUTH_JWKS_URI`), for an issuer URL; empty for `cognito`. */
  readonly jwksUri: string;
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
  registry: '--registry <url>',
  issuer: '--platform <platform.yaml>',
  audience: '--platform <platform.yaml>',
  jwksUri: '--platform <platform.yaml>',
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
  /** The platform's provisioned issuer, as `aio init` sets up: correct for most platforms. */
  issuer: 'cognito',
  audience: '',
  jwksUri: '',
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
 * Checks a complete set of answers given on the command line, reporting the first problem in the
 * user's terms, named by its flag. Every problem is a usage error (exit 2): the values came from
 * flags or prompts, not from a file.
 *
 * @throws UsageError for a bad name, owner, choice, route, call or registry
 * @see answerProblems for the rules, shared with `aio update` and the prompts
 */
export function checkAnswers(answers: ServiceAnswers): void {
  const [first] = answerProblems(answers);
  if (!first) return;
  const flag = first.field === 'name' ? '' : `${ANSWER_FLAGS[first.field].split(' ')[0]} `;
  throw new UsageError(`${flag}${first.message}${first.got === undefined ? '' : `, got ${first.got}`}`);
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
    registry:
      answers.registry ??
      defaultRegistry(
        answers.platform ?? ANSWER_DEFAULTS.platform,
        answers.account ?? ANSWER_DEFAULTS.account,
        answers.region ?? ANSWER_DEFAULTS.region,
      ),
    issuer: answers.issuer ?? ANSWER_DEFAULTS.issuer,
    audience: answers.audience ?? ANSWER_DEFAULTS.audience,
    jwksUri: answers.jwksUri ?? ANSWER_DEFAULTS.jwksUri,
  };
}

/** The platform's CodeArtifact URL when nothing better is known (no platform.yaml, an old record). */
export function defaultRegistry(platform: string, account: string, region: string): string {
  return naming.npmRegistryUrl(
    { domain: naming.packageDomain(platform), repository: naming.packageRepository },
    { account, region },
  );
}
