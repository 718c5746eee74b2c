/**
 * CDK app of the CodePipeline alternative: `npx cdk deploy --app "node lib/pipelines/pipeline-app.js"
 * -c connectionArn=arn:aws:codeconnections:...` once; after that the pipeline updates itself.
 *
 * The pipeline lives in the first environment's account unless `-c pipelineAccount=...` and
 * `-c pipelineRegion=...` say otherwise.
 */
import { App } from 'aws-cdk-lib';
import { loadPlatform } from '../model/index.js';
import { PlatformPipelineStack } from './platform-pipeline-stack.js';

const app = new App();
const model = loadPlatform((app.node.tryGetContext('platformFile') as string | undefined) ?? 'platform.yaml');
const connectionArn = app.node.tryGetContext('connectionArn') as string | undefined;
if (!connectionArn) {
  throw new Error(
    'missing context connectionArn; pass -c connectionArn=<CodeConnections ARN of the GitHub connection>',
  );
}
const first = model.environments[0]!;
new PlatformPipelineStack(app, `${model.name}-pipeline`, {
  model,
  connectionArn,
  env: {
    account: (app.node.tryGetContext('pipelineAccount') as string | undefined) ?? first.account,
    region: (app.node.tryGetContext('pipelineRegion') as string | undefined) ?? first.region,
  },
});
app.synth();
