import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterEach, describe, expect, test } from 'vitest';
import { createGatedApp, synthesizeGated } from '../../constructs/gates.js';

const dirs: string[] = [];
function gatedApp() {
  const outdir = mkdtempSync(join(tmpdir(), 'aio-gates-'));
  dirs.push(outdir);
  return createGatedApp({ outdir });
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('gates', () => {
  test('reports a cdk-nag violation as an error finding with the rule id and construct path', () => {
    const app = gatedApp();
    const stack = new Stack(app, 'Bad');
    new s3.Bucket(stack, 'Bucket');
    const { assembly, findings } = synthesizeGated(app);
    expect(assembly).toBeUndefined();
    expect(findings).toContainEqual(
      expect.objectContaining({
        gate: 'cdk-nag',
        rule: 'AwsSolutions-S10',
        path: 'Bad/Bucket/Resource',
        level: 'error',
      }),
    );
  });

  test('reports a CloudFormation validation error with the rule id and construct path', () => {
    const app = gatedApp();
    const stack = new Stack(app, 'Bad');
    const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture without flow logs' });
    new ec2.CfnSecurityGroup(stack, 'Sg', { groupDescription: 'test', vpcId: 'not-a-vpc-id' });
    const { findings } = synthesizeGated(app);
    expect(findings).toContainEqual(
      expect.objectContaining({
        gate: 'cfn-validation',
        rule: expect.stringMatching(/^E\d+$/),
        path: 'Bad/Sg',
        level: 'error',
      }),
    );
  });

  test('honours an acknowledgement: the acknowledged rule is not reported', () => {
    const app = gatedApp();
    const stack = new Stack(app, 'Ok');
    const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture without flow logs' });
    const { assembly, findings } = synthesizeGated(app);
    expect(findings).toEqual([]);
    expect(assembly?.stacks.map((s) => s.stackName)).toEqual(['Ok']);
  });
});
