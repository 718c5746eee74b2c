#!/usr/bin/env node
/**
 * The CDK app that `cdk.json` runs (`node lib/bin/cdk-app.js`), for the infra team's
 * `npx cdk synth|diff|deploy`.
 *
 * Context: `-c env=dev|prod` picks one environment (default: every environment in the file),
 * `-c platformFile=path` the platform file (default: platform.yaml). Both gates (cdk-nag,
 * CloudFormation validation) run on every synth and fail it on error.
 */
import { createGatedApp } from '../constructs/gates.js';
import { addPlatformFromContext } from '../constructs/platform-app.js';
import { isUserError } from '../model/index.js';

try {
  // Under the CDK CLI the app runs in "process" mode: the CLI prints the validation report.
  const app = createGatedApp({ context: { '@aws-cdk/core:appMode': 'process' } });
  addPlatformFromContext(app);
  app.synth();
} catch (err) {
  if (!isUserError(err)) throw err;
  console.error(err.message);
  process.exitCode = 1;
}
