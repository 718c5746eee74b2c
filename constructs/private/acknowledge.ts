import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct, all for one reason.
 *
 * cdk-nag 3 matches each finding individually (`AwsSolutions-IAM5[Resource::*]`), so a rule with
 * several findings is listed once per finding. Every id used here is listed in docs/security.md.
 */
export function acknowledge(scope: IConstruct, ids: readonly string[], reason: string): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
