import { naming } from '../model/naming.js';
import { NODE_VERSION, RUNNER, onPushTo, serviceContainers, steps } from './steps.js';
import { ValidationError, renderValue } from '../model/validation-error.js';
import { pinnedAction } from './actions.js';
import { codeArtifactRepository, registryLoginSteps } from './registry-login.js';
import type { Job, ServiceContainer, Step, Workflow } from './workflow.js';

/** Options for {@link serviceWorkflow}. */
export interface ServiceWorkflowOptions {
  /** The service name, as in platform.yaml `services.<name>`. */
  readonly service: string;
  /** The platform name (platform.yaml `platform:`), used for the ECR repository and role names. */
  readonly platform: string;
  /** AWS account that holds the service's ECR repository. */
  readonly account: string;
  /** AWS region of the ECR repository. */
  readonly region: string;
  /**
   * The platform repository, `owner/name`, that receives the image-tag promotion PR.
   */
  readonly platformRepo: string;
  /**
   * ECR repository name.
   *
   * @default naming.repository(platform, service)
   */
  readonly repository?: string;
  /**
   * IAM role the workflow assumes through GitHub OIDC to push the image.
   *
   * @default - `arn:aws:iam::<account>:role/<ciRoleName>`
   */
  readonly roleArn?: string;
  /**
   * Name of that role, when `roleArn` is not given.
   *
   * @default '<platform>-<service>-ci'
   */
  readonly ciRoleName?: string;
  /**
   * Node.js version for `actions/setup-node`.
   *
   * @default NODE_VERSION (the version the images pin)
   */
  readonly nodeVersion?: string;
  /**
   * Start a Postgres service container for the tests (`DATABASE_URL`).
   *
   * @default false
   */
  readonly postgres?: boolean;
  /**
   * Start a Redis service container for the tests (`REDIS_URL`).
   *
   * @default false
   */
  readonly redis?: boolean;
  /**
   * The branch whose pushes build, push and promote an image.
   *
   * @default 'main'
   */
  readonly branch?: string;
  /**
   * The platform repo's branch that the promotion PR targets.
   *
   * @default 'main'
   */
  readonly platformBranch?: string;
  /**
   * Command that synthesizes the service's Kubernetes manifests from `deploy/` (cdk8s). It runs
   * after `npm run build`.
   *
   * @default 'npm run synth'
   */
  readonly synthCommand?: string;
  /**
   * The npm registry `@aio/*` comes from (the repo's `.npmrc`). For a CodeArtifact URL, the
   * `check` job assumes the read-only `<platform>-packages-read` role and both jobs run
   * `aws codeartifact login` before installing; the image build gets the token as a build secret.
   *
   * @default - no registry login (packages come from the public registry or a file: path)
   */
  readonly registry?: string;
}

/**
 * The `.github/workflows/ci.yml` of a generated service repo.
 *
 * - `check` (every PR and push): install, lint, test (with Postgres/Redis containers when the
 *   service uses them), build, and synthesize `deploy/` with cdk8s.
 * - `image` (push to the main branch only): build the image and push it to ECR, authenticated
 *   through an OIDC role, tagged with the commit SHA.
 * - `promote` (after `image`): opens a PR on the platform repo that sets
 *   `services.<name>.imageTag` in platform.yaml. Merging that PR is the deployment: the platform
 *   pipeline synthesizes and Argo CD syncs it (GitOps), so services never deploy to the cluster
 *   directly. The PR is opened with a short-lived GitHub App token (`vars.PLATFORM_APP_ID`,
 *   `secrets.PLATFORM_APP_PRIVATE_KEY`) scoped to the platform repo.
 *
 * @see https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions
 */
export function serviceWorkflow(options: ServiceWorkflowOptions): Workflow {
  const nodeVersion = options.nodeVersion ?? NODE_VERSION;
  const branch = options.branch ?? 'main';
  const platformBranch = options.platformBranch ?? 'main';
  const repository = options.repository ?? naming.repository(options.platform, options.service);
  const roleArn =
    options.roleArn ??
    `arn:aws:iam::${options.account}:role/${options.ciRoleName ?? naming.serviceCiRole(options.platform, options.service)}`;
  const synthCommand = options.synthCommand ?? 'npm run synth';
  const [platformOwner, platformName] = splitRepo(options.platformRepo);

  const containers: Record<string, ServiceContainer> = {};
  const testEnv: Record<string, string> = {};
  if (options.postgres) {
    containers.postgres = serviceContainers.postgres();
    testEnv.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
  }
  if (options.redis) {
    containers.redis = serviceContainers.redis();
    testEnv.REDIS_URL = 'redis://127.0.0.1:6379';
  }

  const codeArtifact = options.registry ? codeArtifactRepository(options.registry) : undefined;
  const check: Job = {
    name: 'install, lint, test, build, synth',
    'runs-on': RUNNER,
    // id-token: the OIDC exchange for the read-only packages role, nothing else.
    permissions: codeArtifact ? { contents: 'read', 'id-token': 'write' } : { contents: 'read' },
    'timeout-minutes': 20,
    ...(Object.keys(containers).length ? { services: containers } : {}),
    steps: [
      steps.checkout(),
      steps.setupNode(nodeVersion),
      ...(options.registry
        ? registryLoginSteps(options.registry, {
            roleName: naming.packagesReadRole(options.platform),
            sessionName: `${options.service}-packages`,
          })
        : []),
      steps.npmCi(),
      steps.run('lint', 'npm run lint'),
      steps.run('test', 'npm test', Object.keys(testEnv).length ? { env: testEnv } : {}),
      steps.run('build', 'npm run build --if-present'),
      steps.run('synth deploy/ (cdk8s)', synthCommand),
    ],
  };

  const image: Job = {
    name: 'build and push image',
    'runs-on': RUNNER,
    needs: ['check'],
    if: onPushTo(branch),
    permissions: { contents: 'read', 'id-token': 'write' },
    'timeout-minutes': 20,
    outputs: { tag: '${{ steps.tag.outputs.tag }}' },
    steps: [
      steps.checkout(),
      steps.awsCredentials({ roleArn, region: options.region, sessionName: `${options.service}-ci` }),
      steps.ecrLogin('ecr'),
      // The CI role may read packages too; the token reaches the build as a secret, never a layer.
      ...(options.registry
        ? registryLoginSteps(options.registry, { sessionName: `${options.service}-ci` })
        : []),
      steps.run('image tag', 'echo "tag=${GITHUB_SHA}" >> "$GITHUB_OUTPUT"', { id: 'tag' }),
      steps.run(
        'build and push',
        [
          'image="${REGISTRY}/${REPOSITORY}:${TAG}"',
          codeArtifact
            ? 'docker build --pull --secret id=npmrc,src="$HOME/.npmrc" --label "org.opencontainers.image.revision=${GITHUB_SHA}" -t "$image" .'
            : 'docker build --pull --label "org.opencontainers.image.revision=${GITHUB_SHA}" -t "$image" .',
          'docker push "$image"',
        ].join('\n'),
        {
          env: {
            REGISTRY: '${{ steps.ecr.outputs.registry }}',
            REPOSITORY: repository,
            TAG: '${{ steps.tag.outputs.tag }}',
          },
        },
      ),
    ],
  };

  const promote: Job = {
    name: 'promote image tag through the platform repo',
    'runs-on': RUNNER,
    needs: ['image'],
    if: onPushTo(branch),
    // The write access is the App token's, scoped to the platform repo; this repo stays read-only.
    permissions: { contents: 'read' },
    concurrency: { group: `promote-${options.service}`, 'cancel-in-progress': false },
    'timeout-minutes': 10,
    steps: promoteImageTagSteps({ service: options.service, platformOwner, platformName, platformBranch }),
  };

  return {
    name: `${options.service} ci`,
    on: { pull_request: { branches: [branch] }, push: { branches: [branch] } },
    permissions: { contents: 'read' },
    concurrency: {
      group: `ci-${options.service}-\${{ github.ref }}`,
      // Superseded PR runs are cancelled; pushes to main always finish, in order.
      'cancel-in-progress': "${{ github.event_name == 'pull_request' }}",
    },
    jobs: { check, image, promote },
  };
}

/**
 * Steps that open (or update) the PR on the platform repo setting `services.<service>.imageTag`.
 * `yq` ships on GitHub's Ubuntu runners and keeps platform.yaml's comments.
 */
export function promoteImageTagSteps(p: {
  readonly service: string;
  readonly platformOwner: string;
  readonly platformName: string;
  readonly platformBranch: string;
}): Step[] {
  const tag = '${{ needs.image.outputs.tag }}';
  return [
    {
      id: 'app-token',
      name: 'platform repo token',
      uses: pinnedAction('createGithubAppToken'),
      with: {
        'app-id': '${{ vars.PLATFORM_APP_ID }}',
        'private-key': '${{ secrets.PLATFORM_APP_PRIVATE_KEY }}',
        owner: p.platformOwner,
        repositories: p.platformName,
      },
    },
    steps.checkout({
      repository: `${p.platformOwner}/${p.platformName}`,
      token: '${{ steps.app-token.outputs.token }}',
      path: 'platform',
    }),
    steps.run(
      'open promotion PR',
      [
        'set -euo pipefail',
        'branch="promote/${SERVICE}-${TAG}"',
        'git switch -c "$branch"',
        "yq -i '.services[strenv(SERVICE)].imageTag = strenv(TAG)' platform.yaml",
        'git -c user.name="aio-promote[bot]" -c user.email="aio-promote@users.noreply.github.com" \\',
        '  commit -am "promote ${SERVICE} to ${TAG}"',
        'git push "https://x-access-token:${GH_TOKEN}@github.com/${PLATFORM_REPO}.git" "$branch"',
        'gh pr create --repo "$PLATFORM_REPO" --base "$BASE" --head "$branch" \\',
        '  --title "promote ${SERVICE} to ${TAG}" \\',
        '  --body "Sets services.${SERVICE}.imageTag to ${TAG} (built from ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/commit/${GITHUB_SHA})."',
      ].join('\n'),
      {
        'working-directory': 'platform',
        env: {
          GH_TOKEN: '${{ steps.app-token.outputs.token }}',
          SERVICE: p.service,
          TAG: tag,
          PLATFORM_REPO: `${p.platformOwner}/${p.platformName}`,
          BASE: p.platformBranch,
        },
      },
    ),
  ];
}

function splitRepo(repo: string): [string, string] {
  const m = /^([\w.-]+)\/([\w.-]+)$/.exec(repo);
  if (!m) {
    throw new ValidationError(
      "must be 'owner/name', e.g. 'allinone/platform'",
      { path: 'platformRepo' },
      renderValue(repo),
    );
  }
  return [m[1]!, m[2]!];
}
