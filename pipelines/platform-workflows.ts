import type { EnvironmentModel, PlatformModel } from '../model/index.js';
import { naming } from '../model/naming.js';
import { pinnedAction } from './actions.js';
import { PR_SUMMARY_MARKER } from './pr-summary.js';
import { NODE_VERSION, PLATFORM_GATES, RUNNER, onBranch, serviceContainers, steps } from './steps.js';
import { releaseWorkflow, roleArn as partitionRoleArn } from './release-workflow.js';
import type { Job, Step, Workflow } from './workflow.js';

/** Options for {@link platformWorkflows}. */
export interface PlatformWorkflowsOptions {
  /**
   * Node.js version for `actions/setup-node`.
   *
   * @default NODE_VERSION (the version the images pin)
   */
  readonly nodeVersion?: string;
  /**
   * The branch that deploys.
   *
   * @default - the model's `gitops.revision` (Argo CD syncs that branch)
   */
  readonly branch?: string;
  /**
   * Name of the read-only IAM role, in each account, that `cdk diff` assumes through OIDC from
   * pull requests.
   *
   * @default '<platform>-github-diff'
   */
  readonly diffRoleName?: string;
  /**
   * Name of the IAM role, in each account, that deploy jobs assume through OIDC from the
   * deploying branch.
   *
   * @default '<platform>-github-deploy'
   */
  readonly deployRoleName?: string;
}

/** File name (under `.github/workflows/`) → workflow. */
export type WorkflowFiles = Readonly<Record<string, Workflow>>;

/**
 * The platform repo's GitHub Actions workflows, derived from the model.
 *
 * - `pull-request.yml`: gates only. `npm test`, `aio validate`, `aio pipelines --check`,
 *   `aio synth --env all --check` (gates, plus the committed dist/ must be what Argo CD will
 *   sync), `cdk diff` per environment through a read-only OIDC role, dist/ as an artifact, and
 *   one PR comment (updated in place) with resources changed and route weights shifted.
 * - `deploy.yml`: on the deploying branch, the first environment deploys automatically; each
 *   later one waits on its GitHub environment (configure required reviewers on it). A deploy runs
 *   `cdk deploy`, then has Argo CD sync `dist/<env>/k8s` and waits until it is synced and healthy.
 *   Deploys never overlap: one workflow-wide concurrency group, never cancelled.
 * - `release.yml`: on a `v*` tag, publishes `@aio/*` to the platform's npm registry with npm
 *   provenance (`pipelines/release-workflow.ts`).
 *
 * @see https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment
 */
export function platformWorkflows(
  model: PlatformModel,
  options: PlatformWorkflowsOptions = {},
): WorkflowFiles {
  const o = {
    nodeVersion: options.nodeVersion ?? NODE_VERSION,
    branch: options.branch ?? model.spec.gitops.revision,
    diffRoleName: options.diffRoleName ?? naming.githubDiffRole(model.name),
    deployRoleName: options.deployRoleName ?? naming.githubDeployRole(model.name),
  };
  return {
    'pull-request.yml': pullRequestWorkflow(model, o),
    'deploy.yml': deployWorkflow(model, o),
    'release.yml': releaseWorkflow(model, { nodeVersion: o.nodeVersion }),
  };
}

type Resolved = Required<PlatformWorkflowsOptions>;

function setup(nodeVersion: string): Step[] {
  return [steps.checkout(), steps.setupNode(nodeVersion), steps.npmCi()];
}

function roleArn(env: EnvironmentModel, name: string): string {
  return partitionRoleArn(env.account, env.region, name);
}

function pullRequestWorkflow(model: PlatformModel, o: Resolved): Workflow {
  const check: Job = {
    name: 'test, validate, synth with gates',
    'runs-on': RUNNER,
    permissions: { contents: 'read' },
    'timeout-minutes': 30,
    // The service suites run against real Postgres and Redis.
    services: { postgres: serviceContainers.postgres(), redis: serviceContainers.redis() },
    steps: [
      ...setup(o.nodeVersion),
      ...PLATFORM_GATES.map((g) => steps.run(g.name, g.command)),
      steps.uploadArtifact('dist', 'dist/'),
    ],
  };
  const diffs: Record<string, Job> = {};
  for (const env of model.environments) {
    diffs[`diff-${env.name}`] = {
      name: `cdk diff ${env.name}`,
      'runs-on': RUNNER,
      permissions: { contents: 'read', 'id-token': 'write' },
      'timeout-minutes': 20,
      steps: [
        ...setup(o.nodeVersion),
        steps.awsCredentials({
          roleArn: roleArn(env, o.diffRoleName),
          region: env.region,
          sessionName: `diff-${env.name}`,
        }),
        // --method template: compare templates through the CDK lookup role (read-only); a change
        // set would need the deploy role. No stack names: every top-level stack of the env (cdk
        // diff has no --all; yargs ignored it).
        steps.run(
          `cdk diff ${env.name}`,
          `set -o pipefail\nmkdir -p cdk-diff\nnpx cdk diff -c env=${env.name} --method template --no-color 2>&1 | tee cdk-diff/${env.name}.txt`,
        ),
        steps.uploadArtifact(`cdk-diff-${env.name}`, `cdk-diff/${env.name}.txt`, 7),
      ],
    };
  }
  const summary: Job = {
    name: 'pr comment: resources changed, route weights shifted',
    'runs-on': RUNNER,
    needs: ['check', ...Object.keys(diffs)],
    permissions: { contents: 'read', 'pull-requests': 'write' },
    'timeout-minutes': 10,
    steps: [
      ...setup(o.nodeVersion),
      steps.checkout({ ref: '${{ github.base_ref }}', path: 'base' }),
      steps.downloadArtifacts('cdk-diff-*', 'cdk-diff'),
      steps.run(
        'routes before and after',
        [
          "npx aio routes --json -f base/platform.yaml > routes-before.json || echo '[]' > routes-before.json",
          'npx aio routes --json > routes-after.json',
        ].join('\n'),
      ),
      steps.run(
        'summarise',
        'npx aio pipelines summary --routes-before routes-before.json --routes-after routes-after.json --diff-dir cdk-diff > pr-summary.md',
      ),
      {
        name: 'post or update the comment',
        uses: pinnedAction('githubScript'),
        with: { script: upsertCommentScript() },
      },
    ],
  };
  return {
    name: 'pull request',
    on: { pull_request: { branches: [o.branch] } },
    permissions: { contents: 'read' },
    concurrency: { group: 'pr-${{ github.event.pull_request.number }}', 'cancel-in-progress': true },
    jobs: { check, ...diffs, summary },
  };
}

/** github-script body: one comment per PR, found by its marker and edited on later pushes. */
function upsertCommentScript(): string {
  return [
    "const body = require('fs').readFileSync('pr-summary.md', 'utf8');",
    'const { owner, repo } = context.repo;',
    'const issue_number = context.issue.number;',
    'const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });',
    `const mine = comments.find((c) => c.body && c.body.includes('${PR_SUMMARY_MARKER}'));`,
    'if (mine) await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });',
    'else await github.rest.issues.createComment({ owner, repo, issue_number, body });',
  ].join('\n');
}

function deployWorkflow(model: PlatformModel, o: Resolved): Workflow {
  const jobs: Record<string, Job> = {};
  let previous: string | undefined;
  for (const env of model.environments) {
    const id = `deploy-${env.name}`;
    jobs[id] = deployJob(model, env, o, previous);
    previous = id;
  }
  return {
    name: 'deploy',
    on: { push: { branches: [o.branch] }, workflow_dispatch: {} },
    permissions: { contents: 'read' },
    // One deploy at a time, across all environments; a running deploy is never cancelled.
    concurrency: { group: `deploy-${model.name}`, 'cancel-in-progress': false },
    jobs,
  };
}

function deployJob(model: PlatformModel, env: EnvironmentModel, o: Resolved, needs?: string): Job {
  const app = `${model.name}-${env.name}`;
  return {
    name: `deploy ${env.name}`,
    'runs-on': RUNNER,
    ...(needs ? { needs: [needs] } : {}),
    if: onBranch(o.branch),
    // Approval (required reviewers) is a protection rule of this GitHub environment.
    environment: { name: env.name },
    concurrency: { group: `deploy-${model.name}-${env.name}`, 'cancel-in-progress': false },
    permissions: { contents: 'read', 'id-token': 'write' },
    'timeout-minutes': 90,
    steps: [
      ...setup(o.nodeVersion),
      steps.run(
        `synth ${env.name} (gates, committed dist/ up to date)`,
        `npx aio synth --env ${env.name} --check`,
      ),
      steps.awsCredentials({
        roleArn: roleArn(env, o.deployRoleName),
        region: env.region,
        sessionName: `deploy-${env.name}`,
      }),
      steps.run(
        `cdk deploy ${env.name}`,
        `npx cdk deploy --all -c env=${env.name} --require-approval never --concurrency 2`,
      ),
      steps.run(
        `argo cd sync ${env.name}/k8s`,
        [
          'set -euo pipefail',
          'aws eks update-kubeconfig --name "$CLUSTER" --region "$AWS_REGION"',
          '# Sync the Application to this commit: Argo CD applies dist/<env>/k8s as committed.',
          'kubectl -n argocd patch application.argoproj.io "$APP" --type merge \\',
          '  -p "{\\"operation\\":{\\"initiatedBy\\":{\\"username\\":\\"github-actions\\"},\\"sync\\":{\\"revision\\":\\"${GITHUB_SHA}\\"}}}"',
          'app="application.argoproj.io/$APP"',
          '# Wait for this operation (not an earlier one) to finish, then for the result to be healthy.',
          'kubectl -n argocd wait "$app" --for=jsonpath=\'{.status.operationState.syncResult.revision}\'="$GITHUB_SHA" --timeout=15m',
          'kubectl -n argocd wait "$app" --for=jsonpath=\'{.status.operationState.phase}\'=Succeeded --timeout=15m',
          'kubectl -n argocd wait "$app" --for=jsonpath=\'{.status.health.status}\'=Healthy --timeout=15m',
        ].join('\n'),
        { env: { CLUSTER: `${model.name}-${env.name}`, APP: app } },
      ),
    ],
  };
}
