import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { GateFinding } from '../synth/synth-step.js';

/** Context every platform app runs with: CloudFormation validation findings are errors. */
export const GATE_CONTEXT: Readonly<Record<string, unknown>> = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  // Exports stay protected while a consumer imports them (CloudFormation's own behaviour).
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  // Keep the whole report in the thrown error instead of printing it; we turn it into findings.
  '@aws-cdk/core:appMode': 'inmemory',
};

/**
 * A CDK App with both gates attached: cdk-nag's AwsSolutions pack (a validation plugin) and
 * aws-cdk-lib's built-in CloudFormation validation, whose findings are errors.
 *
 * @see https://github.com/cdklabs/cdk-nag#usage
 */
export function createGatedApp(props: AppProps = {}): App {
  const app = new App({ ...props, context: { ...GATE_CONTEXT, ...props.context } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** The result of {@link synthesizeGated}. */
export interface GatedSynthesis {
  /** The cloud assembly, when no gate failed. */
  readonly assembly?: CloudAssembly;
  /** Every gate finding, errors and warnings, with rule id and construct path. */
  readonly findings: readonly GateFinding[];
}

interface ReportJson {
  readonly pluginReports?: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs?: readonly { readonly constructPath?: string }[];
    }[];
  }[];
}

/**
 * Synthesizes `app` and turns gate failures into findings instead of an exception.
 *
 * aws-cdk-lib writes `validation-report.json` into the assembly and throws when a plugin fails;
 * the report is the source of truth, the exception is only the signal.
 */
export function synthesizeGated(app: App): GatedSynthesis {
  let assembly: CloudAssembly | undefined;
  try {
    assembly = app.synth();
  } catch (err) {
    if (!isValidationFailure(err) || !existsSync(join(app.outdir, 'validation-report.json'))) throw err;
  }
  return { assembly, findings: [...readFindings(app.outdir), ...annotationFindings(assembly)] };
}

/**
 * Warnings and errors that constructs attached with `Annotations`, so that a known gap (for example
 * tracing storage the AWS layer does not provision yet) shows in the synth summary, not only in the
 * manifest.
 */
function annotationFindings(assembly: CloudAssembly | undefined): GateFinding[] {
  if (!assembly) return [];
  return assembly.stacks.flatMap((stack) =>
    stack.messages
      .filter((m) => m.level === 'warning' || m.level === 'error')
      .map((m) => ({
        gate: 'cdk-annotations',
        rule: annotationRule(String(m.entry.data)),
        path: m.id.replace(/^\//, ''),
        message: String(m.entry.data).replace(/ \[ack: [^\]]+\]$/, ''),
        level: m.level === 'error' ? ('error' as const) : ('warning' as const),
      })),
  );
}

function annotationRule(message: string): string {
  return /\[ack: ([^\]]+)\]$/.exec(message)?.[1] ?? 'annotation';
}

/** Findings from the validation report in an assembly directory (none when there is no report). */
export function readFindings(outdir: string): GateFinding[] {
  const file = join(outdir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ReportJson;
  const findings: GateFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    const gate = plugin.pluginName === 'AwsSolutions' ? 'cdk-nag' : 'cfn-validation';
    for (const v of plugin.violations) {
      const level = v.severity === 'error' || v.severity === 'fatal' ? 'error' : 'warning';
      for (const c of v.violatingConstructs ?? [{}]) {
        findings.push({
          gate,
          rule: v.ruleName,
          path: c.constructPath ?? '(unknown)',
          message: v.description,
          level,
        });
      }
    }
  }
  return findings;
}

function isValidationFailure(err: unknown): boolean {
  // aws-cdk-lib throws an UnscopedValidationError whose name is its code, `ValidationFailed`.
  return (
    err instanceof Error &&
    (err.name === 'ValidationFailed' || err.constructor.name === 'UnscopedValidationError')
  );
}
