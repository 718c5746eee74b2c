import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PackageRegistry } from './package-registry.js';

/** Properties for {@link PackagesStack}. */
export interface PackagesStackProps extends StackProps {
  /** Platform name: the CodeArtifact domain (`model/naming.ts`). */
  readonly platform: string;
}

/**
 * The platform's npm registry in its own stack, because CodeArtifact is not offered in every
 * region (not in ap-northeast-2, for one): `packages.region` in platform.yaml places it, in the
 * first environment's account. The CI stack's roles are granted access by ARN, which is global,
 * so the two stacks need no cross-region reference.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/codeartifact.html
 */
export class PackagesStack extends Stack {
  /** The registry. */
  public readonly registry: PackageRegistry;

  constructor(scope: Construct, id: string, props: PackagesStackProps) {
    super(scope, id, props);
    this.registry = new PackageRegistry(this, 'Packages', { platform: props.platform });
  }
}
