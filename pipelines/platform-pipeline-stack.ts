import { Stack, type StackProps } from 'aws-cdk-lib';
import { BuildSpec, LinuxBuildImage } from 'aws-cdk-lib/aws-codebuild';
import { CodePipeline, CodePipelineSource, ManualApprovalStep, ShellStep } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { PlatformStage } from '../constructs/platform-stage.js';
import type { PlatformModel } from '../model/index.js';
import { ValidationError, renderValue } from '../model/validation-error.js';
import { NODE_VERSION, PLATFORM_GATES } from './steps.js';

/** Properties for {@link PlatformPipelineStack}. */
export interface PlatformPipelineStackProps extends StackProps {
  /** The validated platform: one pipeline stage per environment, in the order of platform.yaml. */
  readonly model: PlatformModel;
  /**
   * ARN of the CodeConnections (CodeStar) connection to GitHub.
   *
   * @see https://docs.aws.amazon.com/dtconsole/latest/userguide/connections-create-github.html
   */
  readonly connectionArn: string;
  /**
   * The GitHub repository, `owner/name`.
   *
   * @default - parsed from the model's `gitops.repoUrl`
   */
  readonly repository?: string;
  /**
   * The branch the pipeline builds.
   *
   * @default - the model's `gitops.revision`
   */
  readonly branch?: string;
  /**
   * Environments that wait for a manual approval before they deploy.
   *
   * @default - every environment after the first (dev deploys on its own, prod is approved)
   */
  readonly approvalBefore?: readonly string[];
  /**
   * Command that synthesizes this pipeline's own CDK app into `cdk.out`.
   *
   * @default 'npx cdk synth --app "node lib/pipelines/pipeline-app.js"'
   */
  readonly cdkSynthCommand?: string;
}

/** The synth step's commands before `cdk synth`: `npm ci`, then the same gates as the PR workflow. */
export const PIPELINE_GATE_COMMANDS: readonly string[] = ['npm ci', ...PLATFORM_GATES.map((g) => g.command)];

/**
 * The platform on AWS CodePipeline, for teams that prefer it to GitHub Actions.
 *
 * A self-mutating CDK Pipeline: source from GitHub through a CodeConnections connection; a synth
 * step that runs the same gates as the pull-request workflow ({@link PLATFORM_GATES}: `npm test`,
 * `aio validate`, `aio pipelines --check`, `aio synth --env all --check` with cdk-nag,
 * CloudFormation and Kubernetes-schema gates) before `cdk synth`; then one {@link PlatformStage} per environment, dev first, and a manual
 * approval before each later one. Cross-account keys are on, since every environment has its own
 * account.
 *
 * Kubernetes manifests still ship through Argo CD, which syncs the committed `dist/<env>/k8s`.
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/cdk_pipeline.html
 */
export class PlatformPipelineStack extends Stack {
  /** The CDK pipeline (built when the app synthesizes). */
  public readonly pipeline: CodePipeline;
  /** The stages, by environment name. */
  public readonly stages: ReadonlyMap<string, PlatformStage>;

  constructor(scope: Construct, id: string, props: PlatformPipelineStackProps) {
    super(scope, id, props);
    const { model } = props;
    const repository = props.repository ?? repositoryFromUrl(model.spec.gitops.repoUrl);
    const branch = props.branch ?? model.spec.gitops.revision;
    const envNames = model.environments.map((e) => e.name);
    const approvalBefore = props.approvalBefore ?? envNames.slice(1);
    for (const name of approvalBefore) model.environment(name);
    const cdkSynthCommand =
      props.cdkSynthCommand ?? 'npx cdk synth --app "node lib/pipelines/pipeline-app.js"';

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: `${model.name}-platform`,
      selfMutation: true,
      crossAccountKeys: true,
      synth: new ShellStep('Synth', {
        input: CodePipelineSource.connection(repository, branch, { connectionArn: props.connectionArn }),
        commands: [...PIPELINE_GATE_COMMANDS, cdkSynthCommand],
        primaryOutputDirectory: 'cdk.out',
      }),
      // The Node major of NODE_VERSION: CodeBuild's standard image selects a runtime by major.
      // https://docs.aws.amazon.com/codebuild/latest/userguide/runtime-versions.html
      codeBuildDefaults: {
        buildEnvironment: { buildImage: LinuxBuildImage.STANDARD_7_0 },
        partialBuildSpec: BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': { nodejs: Number(NODE_VERSION.split('.')[0]) } } },
        }),
      },
    });

    const stages = new Map<string, PlatformStage>();
    for (const env of model.environments) {
      const stage = new PlatformStage(this, `${model.name}-${env.name}`, { model, environment: env.name });
      this.pipeline.addStage(stage, {
        pre: approvalBefore.includes(env.name)
          ? [
              new ManualApprovalStep(`Approve-${env.name}`, {
                comment: `deploy ${model.name} to ${env.name} (account ${env.account}, ${env.region})?`,
              }),
            ]
          : [],
      });
      stages.set(env.name, stage);
    }
    this.stages = stages;
  }
}

/** `https://github.com/owner/name.git` or `git@github.com:owner/name.git` → `owner/name`. */
export function repositoryFromUrl(url: string): string {
  const m = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(\.git)?$/.exec(url);
  if (!m) {
    throw new ValidationError(
      'must be a GitHub repository URL for CDK Pipelines, or pass repository explicitly',
      { path: 'gitops.repoUrl' },
      renderValue(url),
    );
  }
  return `${m[1]}/${m[2]}`;
}
