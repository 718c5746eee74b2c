import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { isPinnedBySha } from '../../pipelines/actions.js';
import { serviceWorkflow, type ServiceWorkflowOptions } from '../../pipelines/service-workflow.js';
import { GENERATED_MARKER, renderWorkflow, type Workflow } from '../../pipelines/workflow.js';
import { usesOf, workflowSchemaErrors } from './workflow-schema.js';

const base: ServiceWorkflowOptions = {
  service: 'order',
  platform: 'allinone',
  account: '111111111111',
  region: 'ap-northeast-2',
  platformRepo: 'allinone/platform',
};

describe('serviceWorkflow', () => {
  const withData = serviceWorkflow({ ...base, postgres: true, redis: true });
  const text = renderWorkflow(withData);
  const parsed = parse(text) as Workflow & { jobs: Record<string, { steps: { uses?: string }[] }> };

  test('renders a generated-file header and validates against the GitHub workflow schema', () => {
    expect(text.startsWith(GENERATED_MARKER)).toBe(true);
    expect(workflowSchemaErrors(text)).toEqual([]);
    expect(workflowSchemaErrors(renderWorkflow(serviceWorkflow(base)))).toEqual([]);
  });

  test('pins every action by commit sha with a version comment', () => {
    const uses = usesOf(parsed);
    expect(uses.length).toBeGreaterThan(4);
    expect(uses.filter((u) => !isPinnedBySha(u))).toEqual([]);
    for (const line of text.split('\n').filter((l) => /^\s*(- )?uses: /.test(l))) {
      expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  test('checks every PR and push: install, lint, test, build, then synth deploy/', () => {
    const check = withData.jobs.check!;
    expect(check.if).toBeUndefined();
    expect(check.steps.filter((s) => s.run).map((s) => s.run)).toEqual([
      'npm ci',
      'npm run lint',
      'npm test',
      'npm run build --if-present',
      'npm run synth',
    ]);
    expect(Object.keys(withData.on).sort()).toEqual(['pull_request', 'push']);
  });

  test('starts postgres and redis containers only when asked', () => {
    expect(Object.keys(withData.jobs.check!.services ?? {})).toEqual(['postgres', 'redis']);
    expect(withData.jobs.check!.steps.find((s) => s.name === 'test')?.env).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(serviceWorkflow(base).jobs.check!.services).toBeUndefined();
  });

  test('pushes to the ECR repository named by the model through an OIDC role, only on main', () => {
    const image = withData.jobs.image!;
    expect(image.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(image.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const creds = image.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(creds?.with?.['role-to-assume']).toBe('arn:aws:iam::111111111111:role/allinone-order-ci');
    expect(image.steps.find((s) => s.name === 'build and push')?.env?.REPOSITORY).toBe('allinone/order');
    expect(JSON.stringify(parsed)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
  });

  test('promotes the tag with a PR on the platform repo that bumps services.<name>.imageTag', () => {
    const promote = withData.jobs.promote!;
    expect(promote.needs).toEqual(['image']);
    expect(promote.if).toContain("github.event_name == 'push'");
    const open = promote.steps.find((s) => s.name === 'open promotion PR')!;
    expect(open.run).toContain('.services[strenv(SERVICE)].imageTag = strenv(TAG)');
    expect(open.run).toContain('gh pr create --repo "$PLATFORM_REPO"');
    expect(open.env).toMatchObject({ SERVICE: 'order', PLATFORM_REPO: 'allinone/platform', BASE: 'main' });
  });

  test('grants write permissions to no job and cancels only superseded PR runs', () => {
    for (const job of Object.values(withData.jobs)) {
      expect(Object.entries(job.permissions).filter(([k, v]) => v === 'write' && k !== 'id-token')).toEqual(
        [],
      );
    }
    expect(withData.permissions).toEqual({ contents: 'read' });
    expect(withData.concurrency?.['cancel-in-progress']).toBe("${{ github.event_name == 'pull_request' }}");
  });

  test('honours an explicit role ARN, repository and node version', () => {
    const wf = serviceWorkflow({
      ...base,
      roleArn: 'arn:aws:iam::333333333333:role/custom',
      repository: 'shared/order',
      nodeVersion: '22',
    });
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    expect(steps.find((s) => s.with?.['role-to-assume'])?.with?.['role-to-assume']).toBe(
      'arn:aws:iam::333333333333:role/custom',
    );
    expect(steps.find((s) => s.name === 'setup node')?.with?.['node-version']).toBe('22');
    expect(steps.find((s) => s.name === 'build and push')?.env?.REPOSITORY).toBe('shared/order');
  });

  test('throws on a platform repo that is not owner/name', () => {
    expect(() => serviceWorkflow({ ...base, platformRepo: 'platform' })).toThrow(
      "platformRepo: must be 'owner/name', e.g. 'allinone/platform', got 'platform'",
    );
  });
});
