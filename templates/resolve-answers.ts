import type { PlatformModel } from '../model/platform-model.js';
import { UsageError } from '../model/validation-error.js';
import { answerProblem, listItemProblem } from './answer-rules.js';
import { answered, type Prompter } from './prompter.js';
import { ANSWER_DEFAULTS, ANSWER_FLAGS, defaultRegistry, type ServiceAnswers } from './service-answers.js';

/** The answers given as flags; anything missing is prompted for or defaulted. */
export interface AnswerFlags {
  readonly name?: string;
  readonly owner?: string;
  readonly database?: string;
  readonly cache?: string;
  readonly routes?: readonly string[];
  readonly calls?: readonly string[];
  readonly registry?: string;
}

/** Options for {@link resolveAnswers}. */
export interface ResolveAnswersOptions {
  /** The platform the service joins; its name, repo, first environment and registry fill the rest. */
  readonly platform?: PlatformModel;
  /**
   * How to ask for missing values, or `undefined` when nobody is at the terminal (or `--yes`):
   * then a missing required value is a usage error that lists every missing flag.
   */
  readonly prompter?: Prompter;
}

/**
 * Completes the answers: flags first (each checked at once, so a bad flag fails before any
 * question), then prompts for what is missing (only with a `prompter`; each answer is checked as
 * it is given), then the platform's values and defaults.
 *
 * @throws UsageError for a bad flag, or listing every missing required flag when there is no one to ask
 * @throws PromptCancelled when the user cancels a prompt
 */
export async function resolveAnswers(
  flags: AnswerFlags,
  options: ResolveAnswersOptions = {},
): Promise<ServiceAnswers> {
  const { prompter: p, platform } = options;
  checkFlags(flags);
  if (!p) {
    const missing = [
      flags.name === undefined ? ANSWER_FLAGS.name : undefined,
      flags.owner === undefined ? ANSWER_FLAGS.owner : undefined,
    ].filter((m): m is string => m !== undefined);
    if (missing.length > 0) {
      throw new UsageError(
        `missing required value${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}; ` +
          'pass them as flags, or run without --yes in an interactive terminal to be asked',
      );
    }
  }
  const ask = p!;
  const name = flags.name ?? (await askName(ask));
  const owner =
    flags.owner ??
    answered(
      await ask.text({
        message: 'Owning team (--owner)',
        placeholder: 'team-growth',
        validate: (v) => answerProblem('owner', v),
      }),
    );
  const database =
    flags.database ??
    (p
      ? answered(
          await ask.select({
            message: 'Its own database (--database)',
            options: [
              { value: 'none', hint: 'stateless' },
              { value: 'postgres', hint: 'Aurora PostgreSQL on AWS, a database of its own locally' },
            ],
            initialValue: 'none',
          }),
        )
      : ANSWER_DEFAULTS.database);
  const cache =
    flags.cache ??
    (p
      ? answered(
          await ask.select({
            message: 'Its own Redis (--cache)',
            options: [
              { value: 'none', hint: 'no cache' },
              { value: 'redis', hint: 'Valkey on AWS' },
            ],
            initialValue: 'none',
          }),
        )
      : ANSWER_DEFAULTS.cache);
  const routes =
    flags.routes?.length || !p
      ? [...(flags.routes ?? [])]
      : await askList(ask, 'routes', 'Gateway path prefixes, comma-separated (--route)', `/api/${name}s`);
  const known = platform?.services.map((s) => s.name).filter((s) => s !== name);
  const calls =
    flags.calls?.length || !p
      ? [...(flags.calls ?? [])]
      : await askList(
          ask,
          'calls',
          `Services it calls, comma-separated (--calls)${known?.length ? `: ${known.join(', ')}` : ''}`,
          '',
          name,
          known,
        );
  const env = platform?.environments[0];
  const platformName = platform?.name ?? ANSWER_DEFAULTS.platform;
  const account = env?.account ?? ANSWER_DEFAULTS.account;
  const region = env?.region ?? ANSWER_DEFAULTS.region;
  // the issuer the platform's charts give every service (charts/service-chart.ts, tokenIssuerOf)
  const identity = platform?.identity;
  return {
    name,
    owner,
    database: database as ServiceAnswers['database'],
    cache: cache as ServiceAnswers['cache'],
    routes,
    calls,
    platform: platformName,
    platformRepo: (platform && githubRepo(platform.spec.gitops.repoUrl)) ?? ANSWER_DEFAULTS.platformRepo,
    account,
    region,
    registry: withSlash(
      flags.registry ?? platform?.packageRegistry.url ?? defaultRegistry(platformName, account, region),
    ),
    ...(identity?.kind === 'issuer'
      ? { issuer: identity.issuer, audience: identity.audience, jwksUri: identity.jwksUri }
      : {
          issuer: ANSWER_DEFAULTS.issuer,
          audience: ANSWER_DEFAULTS.audience,
          jwksUri: ANSWER_DEFAULTS.jwksUri,
        }),
  };
}

/** `owner/name` of a GitHub URL (https or ssh), or `undefined` for other hosts. */
export function githubRepo(url: string): string | undefined {
  const m = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** Every flag given is checked before the first question: a bad one is a usage error (exit 2). */
function checkFlags(flags: AnswerFlags): void {
  const single = [
    ['name', flags.name],
    ['owner', flags.owner],
    ['database', flags.database],
    ['cache', flags.cache],
    ['registry', flags.registry === undefined ? undefined : withSlash(flags.registry)],
  ] as const;
  for (const [field, value] of single) {
    const problem = value === undefined ? undefined : answerProblem(field, value);
    if (problem) {
      const flag = field === 'name' ? '' : `${ANSWER_FLAGS[field].split(' ')[0]} `;
      throw new UsageError(field === 'name' ? problem : `${flag}${problem}, got '${value}'`);
    }
  }
  for (const field of ['routes', 'calls'] as const) {
    for (const item of flags[field] ?? []) {
      const problem = listItemProblem(field, item, flags.name);
      if (problem) throw new UsageError(`${ANSWER_FLAGS[field].split(' ')[0]} ${problem}, got '${item}'`);
    }
  }
}

async function askName(p: Prompter): Promise<string> {
  return answered(
    await p.text({
      message: 'Service name (a DNS-1035 label: a letter first, at most 40 characters)',
      placeholder: 'review-digest',
      validate: (v) => answerProblem('name', v.trim()),
    }),
  ).trim();
}

async function askList(
  p: Prompter,
  field: 'routes' | 'calls',
  message: string,
  placeholder: string,
  self?: string,
  known?: readonly string[],
): Promise<string[]> {
  const reply = answered(
    await p.text({
      message,
      placeholder: placeholder || undefined,
      defaultValue: '',
      validate: (v) => {
        for (const item of list(v)) {
          const problem =
            listItemProblem(field, item, self) ??
            (known && field === 'calls' && !known.includes(item)
              ? `names no service of this platform; known services are ${known.join(', ')}`
              : undefined);
          if (problem) return `'${item}' ${problem}`;
        }
        return undefined;
      },
    }),
  );
  return list(reply);
}

function list(reply: string): string[] {
  return reply
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
