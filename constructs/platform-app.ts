import type { App } from 'aws-cdk-lib';
import { loadPlatform } from '../model/index.js';
import { createPlatformStacks, type PlatformStacks } from './platform-stage.js';

/**
 * Fills a CDK App from its context, the way `cdk.json`'s app (`bin/cdk-app.ts`) does:
 *
 * - `platformFile`: the platform file to read (default `platform.yaml`);
 * - `env`: one environment to synthesize (default: every environment in the file).
 *
 * The stacks go at the top level of the App, so `npx cdk deploy --all -c env=prod` deploys them
 * all in dependency order.
 *
 * @throws ValidationError for an invalid platform file or an unknown environment
 */
export function addPlatformFromContext(app: App): PlatformStacks[] {
  const file = String(app.node.tryGetContext('platformFile') ?? 'platform.yaml');
  const model = loadPlatform(file);
  const only = app.node.tryGetContext('env') as unknown;
  const envs =
    only === undefined ? model.environments.map((e) => e.name) : [model.environment(String(only)).name];
  return envs.map((environment) => createPlatformStacks(app, { model, environment }));
}
