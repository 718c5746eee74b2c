import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SynthStep, SynthStepResult, SynthTarget } from '../synth/synth-step.js';
import { createGatedApp, synthesizeGated } from './gates.js';
import { createPlatformStacks } from './platform-stage.js';

/**
 * The CloudFormation step of `aio synth`: synthesizes one environment in-process into
 * `<envDir>/cloudformation/` (a cloud assembly that `cdk deploy --app <dir>` accepts) and runs the
 * gates, cdk-nag's AwsSolutions pack and aws-cdk-lib's CloudFormation validation.
 *
 * A failed gate is returned as findings with level `error`, rule id and construct path (so
 * `aio synth` exits 1); it never surfaces as a stack trace.
 */
export const cloudFormationStep: SynthStep = {
  name: 'cloudformation',
  async run(target: SynthTarget): Promise<SynthStepResult> {
    const outdir = join(target.envDir, 'cloudformation');
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });

    const app = createGatedApp({ outdir });
    createPlatformStacks(app, { model: target.model, environment: target.env.name });
    target.progress('running cdk-nag and CloudFormation validation');
    const { findings } = synthesizeGated(app);

    const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    let resources = 0;
    for (const file of templates) {
      const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { Resources?: object };
      resources += Object.keys(template.Resources ?? {}).length;
    }
    return {
      stacks: templates.length,
      resources,
      files: readdirSync(outdir)
        .sort()
        .map((f) => `cloudformation/${f}`),
      findings,
    };
  },
};
