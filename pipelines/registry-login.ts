import { roleArn } from './release-workflow.js';
import { steps } from './steps.js';
import type { Step } from './workflow.js';

/** A CodeArtifact npm repository, as read from its registry URL. */
export interface CodeArtifactRepository {
  readonly domain: string;
  /** The domain owner: the AWS account. */
  readonly owner: string;
  readonly region: string;
  readonly repository: string;
}

const CODEARTIFACT_URL =
  /^https:\/\/([a-z][a-z0-9-]*)-(\d{12})\.d\.codeartifact\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?\/npm\/([\w.-]+)\/$/;

/**
 * The CodeArtifact repository behind an npm registry URL (`naming.npmRegistryUrl`), or
 * `undefined` for any other registry (a Verdaccio on a laptop, `--registry <url>`).
 */
export function codeArtifactRepository(url: string): CodeArtifactRepository | undefined {
  const m = CODEARTIFACT_URL.exec(url);
  return m ? { domain: m[1]!, owner: m[2]!, region: m[3]!, repository: m[4]! } : undefined;
}

/**
 * The command that gives npm a token for `@<scope>` at run time: `aws codeartifact login` for
 * CodeArtifact (it writes the scope's registry and a token of at most 12 hours into the user's
 * `~/.npmrc`, never into the repo), `npm login` for other registries.
 *
 * @see https://docs.aws.amazon.com/codeartifact/latest/ug/npm-auth.html
 */
export function registryLoginCommand(url: string, scope = 'aio'): string {
  const repo = codeArtifactRepository(url);
  return repo
    ? `aws codeartifact login --tool npm --namespace ${scope} --domain ${repo.domain} --domain-owner ${repo.owner} --repository ${repo.repository} --region ${repo.region}`
    : `npm login --scope=@${scope} --registry=${url}`;
}

/**
 * CI steps that log npm in to the registry of `url` before `npm ci`: OIDC credentials for
 * `roleName` (unless the job has AWS credentials already), then `aws codeartifact login`. Nothing
 * for a registry that is not CodeArtifact (it needs no login, or a token the team adds itself).
 */
export function registryLoginSteps(
  url: string,
  options: { readonly roleName?: string; readonly sessionName: string; readonly scope?: string },
): Step[] {
  const repo = codeArtifactRepository(url);
  if (!repo) return [];
  return [
    ...(options.roleName
      ? [
          steps.awsCredentials({
            roleArn: roleArn(repo.owner, repo.region, options.roleName),
            region: repo.region,
            sessionName: options.sessionName,
          }),
        ]
      : []),
    steps.run(`registry login (@${options.scope ?? 'aio'})`, registryLoginCommand(url, options.scope)),
  ];
}
