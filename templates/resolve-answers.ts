import { UsageError } from '../model/validation-error.js';
import type { PlatformModel } from '../model/platform-model.js';
import {
  ANSWER_DEFAULTS,
  checkServiceName,
  suggestServiceName,
  type ServiceAnswers,
} from './service-answers.js';

/** The answers given as flags; anything missing is prompted for or defaulted. */
export interface AnswerFlags {
  readonly name?: string;
  readonly owner?: string;
  readonly database?: string;
  readonly cache?: string;
  readonly routes?: readonly string[];
  readonly calls?: readonly string[];
}

/** Asks one question at the terminal; an empty reply means the default. */
export type Ask = (question: string, defaultValue?: string) => Promise<string>;

/** Options for {@link resolveAnswers}. */
export interface ResolveAnswersOptions {
  /** The platform the service joins; its name, repo and first environment fill the rest. */
  readonly platform?: PlatformModel;
  /**
   * How to prompt for missing values, or `undefined` when nobody is at the terminal (or `--yes`):
   * then a missing required value is an error that lists every missing flag.
   */
  readonly ask?: Ask;
  /** Where a rejected reply is explained before asking again. */
  readonly warn?: (message: string) => void;
}

/**
 * Completes the answers: flags first, then prompts for what is missing (only when `ask` is
 * given), then defaults.
 *
 * @throws UsageError listing every missing required flag when there is no one to ask
 */
export async function resolveAnswers(
  flags: AnswerFlags,
  options: ResolveAnswersOptions = {},
): Promise<ServiceAnswers> {
  const { ask, platform } = options;
  if (!ask) {
    const missing = [
      flags.name === undefined ? '<name>' : undefined,
      flags.owner === undefined ? '--owner <team>' : undefined,
    ];
    const list = missing.filter((m): m is string => m !== undefined);
    if (list.length > 0) {
      throw new UsageError(
        `missing required value${list.length === 1 ? '' : 's'}: ${list.join(', ')}; ` +
          'pass them as flags, or run without --yes in an interactive terminal to be asked',
      );
    }
  }
  const name = flags.name ?? (await askName(ask!, options.warn));
  const owner = flags.owner ?? (await ask!('owning team, e.g. team-growth (--owner)'));
  const database =
    flags.database ?? (ask ? await ask('database (--database postgres|none)', 'none') : 'none');
  const cache = flags.cache ?? (ask ? await ask('cache (--cache redis|none)', 'none') : 'none');
  const routes =
    flags.routes?.length || !ask
      ? (flags.routes ?? [])
      : list(await ask('gateway route paths, comma-separated (--route)', ''));
  const calls =
    flags.calls?.length || !ask
      ? (flags.calls ?? [])
      : list(await ask('services it calls, comma-separated (--calls)', ''));
  const env = platform?.environments[0];
  return {
    name,
    owner,
    database: database as ServiceAnswers['database'],
    cache: cache as ServiceAnswers['cache'],
    routes: [...routes],
    calls: [...calls],
    platform: platform?.name ?? ANSWER_DEFAULTS.platform,
    platformRepo: (platform && githubRepo(platform.spec.gitops.repoUrl)) ?? ANSWER_DEFAULTS.platformRepo,
    account: env?.account ?? ANSWER_DEFAULTS.account,
    region: env?.region ?? ANSWER_DEFAULTS.region,
  };
}

/** `owner/name` of a GitHub URL (https or ssh), or `undefined` for other hosts. */
export function githubRepo(url: string): string | undefined {
  const m = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

async function askName(ask: Ask, warn: (message: string) => void = () => {}): Promise<string> {
  let suggestion: string | undefined;
  for (;;) {
    const name = (
      await ask('service name (a DNS-1035 label: a letter first, at most 40 characters)', suggestion)
    ).trim();
    try {
      checkServiceName(name);
      return name;
    } catch (err) {
      suggestion = suggestServiceName(name);
      warn((err as Error).message);
    }
  }
}

function list(reply: string): string[] {
  return reply
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
