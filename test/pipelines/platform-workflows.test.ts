import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';
import { parse } from 'yaml';
import { parsePlatform, type PlatformModel } from '../../model/index.js';
import { isPinnedBySha } from '../../pipelines/actions.js';
import { renderPlatformWorkflows } from '../../pipelines/generated-files.js';
import { platformWorkflows, type WorkflowFiles } from '../../pipelines/platform-workflows.js';
import type { Job } from '../../pipelines/workflow.js';
import { usesOf, workflowSchemaErrors } from './workflow-schema.js';

const platformFile = PLATFORM_FIXTURE_FILE;

describe('platformWorkflows', () => {
  let model: PlatformModel;
  let files: WorkflowFiles;
  let rendered: ReadonlyMap<string, string>;
  beforeAll(() => {
    model = parsePlatform(readFileSync(platformFile, 'utf8'));
    files = platformWorkflows(model);
    rendered = renderPlatformWorkflows(model);
  });

  const steps = (job: Job) => job.steps.map((s) => s.run ?? s.uses ?? '').join('\n');

  test('every generated workflow validates against the GitHub workflow schema', () => {
    expect([...rendered.keys()]).toEqual([
      '.github/workflows/pull-request.yml',
      '.github/workflows/deploy.yml',
      '.github/workflows/release.yml',
    ]);
    for (const [file, text] of rendered)
      expect({ file, errors: workflowSchemaErrors(text) }).toEqual({ file, errors: [] });
  });

  test('the schema fixture rejects a malformed workflow', () => {
    expect(workflowSchemaErrors('on: push\njobs:\n  a:\n    steps: nope\n').length).toBeGreaterThan(0);
  });

  test('every uses: is pinned by a 40-hex commit sha', () => {
    for (const text of rendered.values()) {
      const uses = usesOf(parse(text) as Parameters<typeof usesOf>[0]);
      expect(uses.length).toBeGreaterThanOrEqual(3);
      expect(uses.filter((u) => !isPinnedBySha(u))).toEqual([]);
    }
  });

  test('a v* tag publishes @aio/* with provenance, through the release role in the release environment only', () => {
    const release = files['release.yml']!;
    expect(release.on).toEqual({ push: { tags: ['v*'] } });
    expect(release.permissions).toEqual({ contents: 'read' });
    const publish = release.jobs.publish!;
    expect(publish.environment).toEqual({ name: 'release' });
    expect(publish.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const registry = model.packageRegistry;
    const creds = publish.steps.find((s) => s.with?.['role-to-assume']);
    expect(creds?.with).toMatchObject({
      'role-to-assume': `arn:aws:iam::${registry.account}:role/allinone-github-release`,
      'aws-region': 'ap-northeast-1',
    });
    const script = steps(publish);
    expect(script).toContain('aws codeartifact login --tool npm --namespace "$SCOPE"');
    expect(script).toContain('npm publish --provenance --workspace "$dir"');
    expect(script).not.toMatch(/NPM_TOKEN|_authToken/);
    // Login comes after install (public packages) and before publish.
    const names = publish.steps.map((s) => s.name);
    expect(names.indexOf('install')).toBeLessThan(names.indexOf('registry login (@aio)'));
    expect(names.indexOf('registry login (@aio)')).toBeLessThan(names.indexOf('publish (npm provenance)'));
  });

  test('pull requests run the gates and never a deploy job', () => {
    const pr = files['pull-request.yml']!;
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    expect(Object.keys(pr.jobs)).toEqual(['check', 'diff-dev', 'diff-prod', 'summary']);
    const all = Object.values(pr.jobs).map(steps).join('\n');
    expect(all).not.toMatch(/cdk deploy|kubectl|argocd app sync/);
    expect(Object.values(pr.jobs).some((j) => j.environment)).toBe(false);
    const check = steps(pr.jobs.check!);
    for (const cmd of [
      'npm ci',
      'npm test',
      'npx aio validate',
      'npx aio pipelines --check',
      'npx aio synth --env all --check',
    ]) {
      expect(check).toContain(cmd);
    }
    expect(pr.jobs.check!.steps.at(-1)?.with).toMatchObject({ name: 'dist', path: 'dist/' });
    const deploy = files['deploy.yml']!;
    expect(Object.keys(deploy.on).sort()).toEqual(['push', 'workflow_dispatch']);
    for (const job of Object.values(deploy.jobs)) expect(job.if).not.toContain('pull_request');
  });

  test('cdk diff runs per account through the read-only role; only the summary job may comment', () => {
    const pr = files['pull-request.yml']!;
    for (const env of model.environments) {
      const job = pr.jobs[`diff-${env.name}`]!;
      expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
      const creds = job.steps.find((s) => s.with?.['role-to-assume']);
      expect(creds?.with?.['role-to-assume']).toBe(`arn:aws:iam::${env.account}:role/allinone-github-diff`);
      expect(steps(job)).toContain(`npx cdk diff -c env=${env.name} --method template`);
    }
    expect(pr.jobs.summary!.needs).toEqual(['check', 'diff-dev', 'diff-prod']);
    expect(pr.jobs.summary!.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(steps(pr.jobs.summary!)).toContain('npx aio pipelines summary --routes-before routes-before.json');
  });

  test('dev deploys automatically, prod needs dev and its protected environment', () => {
    const deploy = files['deploy.yml']!;
    expect(Object.keys(deploy.jobs)).toEqual(['deploy-dev', 'deploy-prod']);
    const dev = deploy.jobs['deploy-dev']!;
    const prod = deploy.jobs['deploy-prod']!;
    expect(dev.needs).toBeUndefined();
    expect(prod.needs).toEqual(['deploy-dev']);
    expect(prod.environment).toEqual({ name: 'prod' });
    const script = steps(prod);
    expect(script.indexOf('npx aio synth --env prod --check')).toBeLessThan(script.indexOf('npx cdk deploy'));
    expect(script.indexOf('npx cdk deploy --all -c env=prod')).toBeLessThan(
      script.indexOf('kubectl -n argocd patch'),
    );
    expect(prod.steps.at(-1)?.env).toEqual({ CLUSTER: 'allinone-prod', APP: 'allinone-prod' });
    expect(prod.steps.find((s) => s.with?.['role-to-assume'])?.with?.['role-to-assume']).toBe(
      'arn:aws:iam::222222222222:role/allinone-github-deploy',
    );
  });

  test('deploys never overlap and permissions are least privilege', () => {
    const deploy = files['deploy.yml']!;
    expect(deploy.concurrency).toEqual({ group: 'deploy-allinone', 'cancel-in-progress': false });
    for (const job of Object.values(deploy.jobs)) {
      expect(job.concurrency?.['cancel-in-progress']).toBe(false);
      expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    }
    for (const wf of Object.values(files)) {
      expect(wf.permissions).toEqual({ contents: 'read' });
      for (const job of Object.values(wf.jobs)) expect(job.permissions.contents).toBe('read');
    }
  });
});
