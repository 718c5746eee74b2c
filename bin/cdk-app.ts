#!/usr/bin/env node
/**
 * The CDK app that `cdk.json` runs (`node lib/bin/cdk-app.js`), for the infra team's
 * `npx cdk synth|diff|deploy`.
 *
 * Context: `-c env=dev|prod` picks one environment (default: every environment in the file),
 * `-c platformFile=path` the platform file (default: platform.yaml). The stacks are created at the
 * top level of the app, so `npx cdk deploy --all -c env=prod` deploys all of them in dependency
 * order. Both gates (cdk-nag, CloudFormation validation) run on every synth and fail it on error.
 */
import { createGatedApp } from '../constructs/gates.js';
import { createPlatformStacks } from '../constructs/platform-stage.js';
import { isUserError, loadPlatform } from '../model/index.js';

try {
  // Under the CDK CLI the app runs in "process" mode: the CLI prints the validation report.
  const app = createGatedApp({ context: { '@aws-cdk/core:appMode': 'process' } });
  const file = String(app.node.tryGetContext('platformFile') ?? 'platform.yaml');
  const model = loadPlatform(file);
  const only = app.node.tryGetContext('env') as string | undefined;
  const envs = only ? [model.environment(String(only)).name] : model.environments.map((e) => e.name);
  for (const environment of envs) createPlatformStacks(app, { model, environment });
  app.synth();
} catch (err) {
  if (!isUserError(err)) throw err;
  console.error(err.message);
  process.exitCode = 1;
}
