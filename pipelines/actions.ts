/**
 * Every third-party action the generated workflows use, pinned by full commit SHA.
 *
 * A tag can be moved to other code after review; a 40-hex commit SHA cannot. The version is kept
 * beside it and rendered as a `# vX.Y.Z` comment. To upgrade an action, change its line here and
 * run `aio pipelines --write`: both the platform and the service workflows pick it up.
 *
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
 */
export const PINNED_ACTIONS = {
  checkout: { repo: 'actions/checkout', sha: '11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  setupNode: {
    repo: 'actions/setup-node',
    sha: '49933ea5288caeca8642d1e84afbd3f7d6820020',
    version: 'v4.4.0',
  },
  configureAwsCredentials: {
    repo: 'aws-actions/configure-aws-credentials',
    sha: 'e3dd6a429d7300a6a4c196c26e071d42e0343502',
    version: 'v4.0.2',
  },
  ecrLogin: {
    repo: 'aws-actions/amazon-ecr-login',
    sha: '062b18b96a7aff071d4dc91bc00c4c1a7945b076',
    version: 'v2.0.1',
  },
  uploadArtifact: {
    repo: 'actions/upload-artifact',
    sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02',
    version: 'v4.6.2',
  },
  downloadArtifact: {
    repo: 'actions/download-artifact',
    sha: 'fa0a91b85d4f404e444e00e005971372dc801d16',
    version: 'v4.1.8',
  },
  githubScript: {
    repo: 'actions/github-script',
    sha: '60a0d83039c74a4aee543508d2ffcb1c3799cdea',
    version: 'v7.0.1',
  },
  createGithubAppToken: {
    repo: 'actions/create-github-app-token',
    sha: '5d869da34e18e7287c1daad50e0b8ea0f506ce69',
    version: 'v1.11.0',
  },
} as const satisfies Record<string, { repo: string; sha: string; version: string }>;

/** The key of an action in {@link PINNED_ACTIONS}. */
export type PinnedActionName = keyof typeof PINNED_ACTIONS;

/** `owner/repo@<sha>` for a `uses:` line. */
export function pinnedAction(name: PinnedActionName): string {
  const a = PINNED_ACTIONS[name];
  return `${a.repo}@${a.sha}`;
}

/** The version comment for a `uses:` value, or undefined when it is not one of ours. */
export function actionVersionComment(uses: string): string | undefined {
  return Object.values(PINNED_ACTIONS).find((a) => uses === `${a.repo}@${a.sha}`)?.version;
}

/** True when a `uses:` value is pinned by a full commit SHA (or is a local `./` action). */
export function isPinnedBySha(uses: string): boolean {
  return uses.startsWith('./') || /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses);
}
