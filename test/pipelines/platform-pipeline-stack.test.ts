import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { parsePlatform } from '../../model/index.js';
import { PlatformPipelineStack, repositoryFromUrl } from '../../pipelines/platform-pipeline-stack.js';
import { NODE_VERSION } from '../../pipelines/steps.js';

const platformFile = PLATFORM_FIXTURE_FILE;
const CONNECTION =
  'arn:aws:codeconnections:ap-northeast-2:111111111111:connection/11111111-2222-3333-4444-555555555555';

interface PipelineStage {
  Name: string;
  Actions: { Name: string; ActionTypeId: { Category: string }; RunOrder?: number }[];
}

describe('PlatformPipelineStack', () => {
  let template: Template;
  let stages: PipelineStage[];
  let stack: PlatformPipelineStack;

  // One synth of the whole pipeline (it includes every platform stage), shared by the tests.
  beforeAll(() => {
    const model = parsePlatform(readFileSync(platformFile, 'utf8'));
    const app = new App();
    stack = new PlatformPipelineStack(app, 'allinone-pipeline', {
      model,
      connectionArn: CONNECTION,
      env: { account: '111111111111', region: 'ap-northeast-2' },
    });
    template = Template.fromStack(stack);
    const pipelines = template.findResources('AWS::CodePipeline::Pipeline');
    stages = (Object.values(pipelines)[0]!.Properties as { Stages: PipelineStage[] }).Stages;
  }, 600_000);

  test('self-mutates, then deploys dev and prod in that order', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'allinone-dev',
      'allinone-prod',
    ]);
    expect(stages[0]!.Actions[0]!.Name).toBe('allinone_platform');
    expect(stack.stages.get('prod')?.stacks.services.size).toBe(6);
  });

  test('asks for a manual approval before prod only', () => {
    const approvals = (s: PipelineStage) => s.Actions.filter((a) => a.ActionTypeId.Category === 'Approval');
    expect(approvals(stages.find((s) => s.Name === 'allinone-dev')!)).toEqual([]);
    const prod = stages.find((s) => s.Name === 'allinone-prod')!;
    const [approval] = approvals(prod);
    expect(approval?.Name).toBe('Approve-prod');
    const deployOrders = prod.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy').map(
      (a) => a.RunOrder ?? 1,
    );
    expect(Math.min(...deployOrders)).toBeGreaterThan(approval?.RunOrder ?? 1);
  });

  test('the synth step runs the gates before cdk synth', () => {
    const projects = template.findResources('AWS::CodeBuild::Project', {
      Properties: { Source: { BuildSpec: Match.stringLikeRegexp('npx aio synth --env all --check') } },
    });
    expect(Object.keys(projects)).toHaveLength(1);
    const buildSpec = JSON.parse(
      (Object.values(projects)[0]!.Properties as { Source: { BuildSpec: string } }).Source.BuildSpec,
    ) as { phases: { build: { commands: string[] } } };
    expect(buildSpec.phases.build.commands).toEqual([
      'npm ci',
      'npm test',
      'npx aio validate',
      'npx aio pipelines --check',
      'npx aio synth --env all --check',
      'npx cdk synth --app "node lib/pipelines/pipeline-app.js"',
    ]);
    // The connection is referenced, not created: it needs a one-time OAuth handshake in the console.
    template.resourceCountIs('AWS::CodeStarConnections::Connection', 0);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Source',
          Actions: [
            Match.objectLike({
              Configuration: Match.objectLike({
                ConnectionArn: CONNECTION,
                FullRepositoryId: 'allinone/platform',
                BranchName: 'main',
              }),
            }),
          ],
        }),
      ]),
    });
  });

  test('runs every CodeBuild project on the Node major of NODE_VERSION', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThan(0);
    for (const p of projects) {
      const source = (p.Properties as { Source: { BuildSpec: string } }).Source;
      const spec = JSON.parse(source.BuildSpec) as {
        phases: { install?: { 'runtime-versions'?: Record<string, unknown> } };
      };
      expect(spec.phases.install?.['runtime-versions']).toEqual({
        nodejs: Number(NODE_VERSION.split('.')[0]),
      });
    }
    expect(NODE_VERSION).toMatch(/^24\./);
  });

  test('encrypts the cross-account artifact bucket with a customer-managed key', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      }),
    });
  });
});

describe('repositoryFromUrl', () => {
  test('reads owner/name from https and ssh GitHub URLs', () => {
    expect(repositoryFromUrl('https://github.com/allinone/platform.git')).toBe('allinone/platform');
    expect(repositoryFromUrl('git@github.com:allinone/platform')).toBe('allinone/platform');
  });

  test('throws on a non-GitHub URL', () => {
    expect(() => repositoryFromUrl('https://gitlab.com/a/b.git')).toThrow(
      "gitops.repoUrl: must be a GitHub repository URL for CDK Pipelines, or pass repository explicitly, got 'https://gitlab.com/a/b.git'",
    );
  });
});
