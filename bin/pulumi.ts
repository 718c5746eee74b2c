import * as pulumi from '@pulumi/pulumi';
import { platformManifests } from '../charts/platform-charts.js';
import { deployManifests } from '../charts/pulumi-program.js';
import { loadPlatform } from '../model/load-platform.js';

/**
 * The Pulumi program (Pulumi.yaml runs the compiled `lib/bin/pulumi.js`): deploys the same chart
 * objects `aio synth` writes to `dist/<env>/k8s`, in apply order. The stack config picks the env:
 * `pulumi config set aio:env dev` (see Pulumi.dev.yaml / Pulumi.prod.yaml).
 */
const config = new pulumi.Config('aio');
const env = config.require('env');
const model = loadPlatform(config.get('platformFile') ?? 'platform.yaml');
const groups = deployManifests(platformManifests(model, env));

/** The ConfigGroups, one per apply stage. */
export const stages = groups.map((g) => g.urn);
