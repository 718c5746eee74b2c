import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';

/** Properties for {@link ServiceRegistry}. */
export interface ServiceRegistryProps {
  /** Platform name: the repository is `<platform>/<service>`. */
  readonly platform: string;
  /** The service whose images the repository holds. */
  readonly service: string;
  /**
   * Tagged images to keep; older ones expire.
   *
   * @default 50
   */
  readonly maxImageCount?: number;
  /**
   * What happens to the repository when the stack is deleted. `DESTROY` also deletes its images.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A service's ECR repository, `<platform>/<service>`: scan on push, immutable tags (a tag always
 * means the same image, so `imageTag` in platform.yaml pins a build), and a lifecycle policy that
 * expires untagged images after a day and keeps the newest tagged ones.
 *
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
 */
export class ServiceRegistry extends Construct {
  /** The repository. */
  public readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ServiceRegistryProps) {
    super(scope, id);
    const maxImageCount = props.maxImageCount ?? 50;
    if (!Number.isInteger(maxImageCount) || maxImageCount < 1 || maxImageCount > 1000) {
      throw new ValidationError(`'maxImageCount' must be an integer from 1 to 1000, got ${maxImageCount}`, {
        path: this.node.path,
      });
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.repository = new ecr.Repository(this, 'Resource', {
      repositoryName: naming.repository(props.platform, props.service),
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy,
      emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'expire untagged images',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(1),
        },
        {
          rulePriority: 2,
          description: `keep the newest ${maxImageCount} images`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount,
        },
      ],
    });
  }
}
