import type { PlatformModel } from '../model/index.js';
import { naming } from '../model/naming.js';
import { RUNNER, steps } from './steps.js';
import type { Workflow } from './workflow.js';

/** Options for {@link releaseWorkflow}. */
export interface ReleaseWorkflowOptions {
  /** Node.js major version. */
  readonly nodeVersion: string;
  /**
   * Name of the IAM role, in the registry's account, that the publish job assumes through OIDC.
   *
   * @default '<platform>-github-release'
   */
  readonly releaseRoleName?: string;
}

/**
 * Lists the packages to publish: the root (`@aio/platform`) and every workspace that is not
 * private (`@aio/kit`, and any light package added later), as `<folder> <name>@<version>` lines.
 */
const LIST_PACKAGES = [
  `node -e 'const p=require("./package.json"); if (!p.private) console.log(". " + p.name + "@" + p.version)'`,
  `npm query .workspace | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{for (const w of JSON.parse(s)) if (!w.private) console.log(w.location + " " + w.name + "@" + w.version)})'`,
].join('\n');

/**
 * `release.yml`: on a `v*` tag, publishes the platform's packages (`@aio/platform`, `@aio/kit`, `@aio/service-chart`) to
 * the platform's CodeArtifact registry with npm provenance.
 *
 * - The job runs in the GitHub environment `release` (restrict it to `v*` tags, and add required
 *   reviewers), the only subject the release role trusts; `id-token: write` serves both the AWS
 *   OIDC exchange and npm's Sigstore provenance signing.
 * - The registry token comes from `aws codeartifact login` at run time (12 hours at most, in the
 *   runner's user `.npmrc`); no npm token is stored in GitHub.
 * - The tag must equal `v<version>` of the root package.json. A version already in the registry is
 *   skipped (versions are immutable there), so re-running a release publishes only what is missing.
 *
 * @see https://docs.npmjs.com/generating-provenance-statements
 * @see https://docs.aws.amazon.com/codeartifact/latest/ug/npm-auth.html
 */
export function releaseWorkflow(model: PlatformModel, options: ReleaseWorkflowOptions): Workflow {
  const registry = model.packageRegistry;
  const role = options.releaseRoleName ?? naming.githubReleaseRole(model.name);
  return {
    name: 'release',
    on: { push: { tags: ['v*'] } },
    permissions: { contents: 'read' },
    concurrency: { group: `release-${model.name}`, 'cancel-in-progress': false },
    jobs: {
      publish: {
        name: `publish @${registry.scope}/* with provenance`,
        'runs-on': RUNNER,
        environment: { name: naming.releaseEnvironment },
        permissions: { contents: 'read', 'id-token': 'write' },
        'timeout-minutes': 30,
        steps: [
          steps.checkout(),
          steps.setupNode(options.nodeVersion),
          steps.npmCi(),
          steps.run(
            'the tag is the version',
            [
              'version="v$(node -p "require(\'./package.json\').version")"',
              'if [ "$version" != "$GITHUB_REF_NAME" ]; then',
              '  echo "::error file=package.json::tag $GITHUB_REF_NAME does not match the package version $version; tag $version instead"',
              '  exit 1',
              'fi',
            ].join('\n'),
          ),
          steps.awsCredentials({
            roleArn: roleArn(registry.account, registry.region, role),
            region: registry.region,
            sessionName: 'release',
          }),
          steps.run(
            `registry login (@${registry.scope})`,
            'aws codeartifact login --tool npm --namespace "$SCOPE" --domain "$DOMAIN" --domain-owner "$OWNER" --repository "$REPOSITORY"',
            {
              env: {
                SCOPE: registry.scope,
                DOMAIN: registry.domain,
                OWNER: registry.account,
                REPOSITORY: registry.repository,
              },
            },
          ),
          steps.run(
            'publish (npm provenance)',
            [
              'set -euo pipefail',
              `(${LIST_PACKAGES}) | while read -r dir spec; do`,
              '  if npm view "$spec" version >/dev/null 2>&1; then echo "$spec is already published; skipped"; continue; fi',
              '  if [ "$dir" = "." ]; then npm publish --provenance; else npm publish --provenance --workspace "$dir"; fi',
              'done',
            ].join('\n'),
          ),
        ],
      },
    },
  };
}

/** An IAM role ARN in the partition of `region` (workflows are plain text: no CloudFormation pseudo parameter). */
export function roleArn(account: string, region: string, name: string): string {
  return naming.iamRoleArn(account, region, name);
}
