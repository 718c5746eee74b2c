import { pinnedAction } from './actions.js';
import type { ServiceContainer, Step } from './workflow.js';

/**
 * The Node.js version of CI and of the images: the current Node 24 LTS release. The services'
 * and the template's Dockerfiles (`NODE_IMAGE`) and `.ci/run` pin the same version, and
 * `test/pipelines/node-version.test.ts` fails when one of them differs. The `engines` fields
 * accept 22 and 24.
 *
 * @see https://nodejs.org/en/about/previous-releases
 */
export const NODE_VERSION = '24.22.3';

/**
 * Steps shared by the platform repo's workflows and every service repo's `ci.yml`.
 *
 * Both are built from these functions, so a change of Node version handling, caching or AWS
 * authentication reaches all of them at once and they cannot drift apart.
 */
export const steps = {
  /**
   * Checks out the repository without leaving the token in `.git/config`.
   *
   * @param options.fetchDepth 0 for full history. @default 1
   */
  checkout(
    options: { fetchDepth?: number; repository?: string; ref?: string; token?: string; path?: string } = {},
  ): Step {
    return {
      name: options.repository
        ? `checkout ${options.repository}`
        : options.path
          ? `checkout ${options.path}`
          : 'checkout',
      uses: pinnedAction('checkout'),
      with: {
        ...(options.repository ? { repository: options.repository } : {}),
        ...(options.ref ? { ref: options.ref } : {}),
        ...(options.token ? { token: options.token } : {}),
        ...(options.path ? { path: options.path } : {}),
        'fetch-depth': options.fetchDepth ?? 1,
        'persist-credentials': false,
      },
    };
  },

  /** Sets up Node with the npm cache keyed on package-lock.json. */
  setupNode(nodeVersion: string): Step {
    return {
      name: 'setup node',
      uses: pinnedAction('setupNode'),
      with: { 'node-version': nodeVersion, cache: 'npm' },
    };
  },

  /** `npm ci`: a clean install from the lock file. */
  npmCi(): Step {
    return { name: 'install', run: 'npm ci' };
  },

  /** A named shell step. */
  run(name: string, script: string, extra: Omit<Step, 'name' | 'run' | 'uses'> = {}): Step {
    const { id, ...rest } = extra;
    return { ...(id ? { id } : {}), name, run: script, ...rest };
  },

  /**
   * Exchanges the job's OIDC token for short-lived AWS credentials of `roleArn`. The job needs
   * `id-token: write`; no long-lived AWS keys are stored in GitHub.
   *
   * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
   */
  awsCredentials(options: { roleArn: string; region: string; sessionName: string }): Step {
    return {
      name: 'aws credentials (oidc)',
      uses: pinnedAction('configureAwsCredentials'),
      with: {
        'role-to-assume': options.roleArn,
        'aws-region': options.region,
        'role-session-name': options.sessionName,
        'role-duration-seconds': 3600,
      },
    };
  },

  /** Logs Docker in to ECR; the registry host is `steps.<id>.outputs.registry`. */
  ecrLogin(id = 'ecr'): Step {
    return { id, name: 'ecr login', uses: pinnedAction('ecrLogin'), with: { 'mask-password': true } };
  },

  /** Uploads a folder as a workflow artifact. */
  uploadArtifact(name: string, path: string, retentionDays = 14): Step {
    return {
      name: `upload ${name}`,
      uses: pinnedAction('uploadArtifact'),
      with: { name, path, 'retention-days': retentionDays, 'if-no-files-found': 'error' },
    };
  },

  /** Downloads the workflow artifacts whose names match `pattern` into `path`, one folder each. */
  downloadArtifacts(pattern: string, path: string): Step {
    return { name: `download ${pattern}`, uses: pinnedAction('downloadArtifact'), with: { pattern, path } };
  },
} as const;

/** Local Postgres and Redis for test jobs, with health checks so tests start when they are ready. */
export const serviceContainers = {
  postgres(): ServiceContainer {
    return {
      image: 'postgres:16-alpine',
      // Throwaway test database on the runner: trust auth, so no password appears in the workflow.
      env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      ports: ['5432:5432'],
      options:
        '--health-cmd "pg_isready -U postgres" --health-interval 5s --health-timeout 5s --health-retries 10',
    };
  },
  redis(): ServiceContainer {
    return {
      image: 'redis:7-alpine',
      ports: ['6379:6379'],
      options: '--health-cmd "redis-cli ping" --health-interval 5s --health-timeout 5s --health-retries 10',
    };
  },
} as const;

/** The runner every generated job uses. */
export const RUNNER = 'ubuntu-latest';

/** Expression true only for a push to `branch` (never for a pull request). */
export function onPushTo(branch: string): string {
  return `github.event_name == 'push' && github.ref == 'refs/heads/${branch}'`;
}

/** Expression true for a push or a manual run on `branch` (never for a pull request). */
export function onBranch(branch: string): string {
  return `github.ref == 'refs/heads/${branch}' && (github.event_name == 'push' || github.event_name == 'workflow_dispatch')`;
}

/**
 * The platform's gates, in order: the pull-request workflow runs them as named steps and the CDK
 * Pipelines synth step runs the same commands, so the two cannot drift. `aio synth --check` runs
 * cdk-nag, CloudFormation and Kubernetes-schema gates on a fresh synth and fails if the committed
 * dist/ (what Argo CD syncs) differs from it.
 */
export const PLATFORM_GATES: readonly { readonly name: string; readonly command: string }[] = [
  { name: 'test', command: 'npm test' },
  { name: 'validate platform.yaml', command: 'npx aio validate' },
  { name: 'workflows are generated', command: 'npx aio pipelines --check' },
  {
    name: 'synth all environments (gates, committed dist/ up to date)',
    command: 'npx aio synth --env all --check',
  },
];
