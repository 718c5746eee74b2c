import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnDomain, CfnRepository } from 'aws-cdk-lib/aws-codeartifact';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { naming } from '../model/naming.js';

/** Properties for {@link PackageRegistry}. */
export interface PackageRegistryProps {
  /** Platform name: the CodeArtifact domain is `naming.packageDomain(platform)`. */
  readonly platform: string;
  /**
   * The npm scope published to this registry, without `@`. Publish grants cover only this scope.
   *
   * @default 'aio'
   */
  readonly scope?: string;
  /**
   * Proxy and cache public npmjs.org through an upstream repository, so one `.npmrc` line serves
   * both the platform's packages and their public dependencies. Without it, only the scope is
   * served from here and everything else still comes from npmjs.org.
   *
   * @default true
   */
  readonly npmjsUpstream?: boolean;
  /**
   * The KMS key that encrypts the domain's assets.
   *
   * @default - a customer-managed key with yearly rotation
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the domain and repositories when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The platform's private npm registry: an AWS CodeArtifact domain, KMS-encrypted, with one npm
 * repository that the release workflow publishes `@aio/*` to and that service repos install from.
 * With `npmjsUpstream`, a second repository holds the external connection to npmjs.org and is the
 * first one's upstream (CodeArtifact allows one external connection per repository, and keeping
 * it apart lets the public cache be purged without touching the platform's packages).
 *
 * Access is by grant, never by resource policy, and every ARN uses the stack's partition:
 * - {@link grantRead}: a token for the domain, a bearer token for CodeArtifact only, and
 *   `ReadFromRepository` on the one repository (reads through it also reach the upstream).
 * - {@link grantPublish}: read, plus `PublishPackageVersion` and `PutPackageMetadata` on the
 *   packages of the scope only (`package/<domain>/<repo>/npm/<scope>/*`).
 *
 * @see https://docs.aws.amazon.com/codeartifact/latest/ug/auth-and-access-control-iam-identity-based-access-control.html
 * @see https://docs.aws.amazon.com/codeartifact/latest/ug/repos-upstream.html
 */
export class PackageRegistry extends Construct {
  /** The domain. */
  public readonly domain: CfnDomain;
  /** The npm repository clients use. */
  public readonly repository: CfnRepository;
  /** The upstream holding the npmjs.org connection, when `npmjsUpstream`. */
  public readonly npmjsRepository?: CfnRepository;
  /** The key that encrypts the domain. */
  public readonly encryptionKey: IKey;
  /** The domain name. */
  public readonly domainName: string;
  /** The npm repository's name. */
  public readonly repositoryName: string;
  /** The scope published here, without `@`. */
  public readonly scope: string;
  /** The registry URL for `.npmrc` (`@<scope>:registry=<url>`), ending in `/`. */
  public readonly npmUrl: string;

  constructor(scope: Construct, id: string, props: PackageRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.scope = props.scope ?? 'aio';
    this.domainName = naming.packageDomain(props.platform);
    this.repositoryName = naming.packageRepository;
    this.encryptionKey =
      props.encryptionKey ??
      new Key(this, 'Key', {
        description: `encrypts the ${this.domainName} CodeArtifact domain`,
        enableKeyRotation: true,
        removalPolicy,
      });

    this.domain = new CfnDomain(this, 'Domain', {
      domainName: this.domainName,
      encryptionKey: this.encryptionKey.keyArn,
    });
    this.domain.applyRemovalPolicy(removalPolicy);

    if (props.npmjsUpstream ?? true) {
      this.npmjsRepository = new CfnRepository(this, 'Npmjs', {
        domainName: this.domain.attrName,
        repositoryName: `${this.repositoryName}-npmjs`,
        description: 'public npmjs.org, cached (upstream of the platform repository)',
        externalConnections: ['public:npmjs'],
      });
      this.npmjsRepository.applyRemovalPolicy(removalPolicy);
    }
    this.repository = new CfnRepository(this, 'Resource', {
      domainName: this.domain.attrName,
      repositoryName: this.repositoryName,
      description: `@${this.scope}/* packages published by the platform release workflow`,
      upstreams: this.npmjsRepository ? [this.npmjsRepository.attrName] : undefined,
    });
    this.repository.applyRemovalPolicy(removalPolicy);

    const { account, region } = Stack.of(this);
    this.npmUrl = naming.npmRegistryUrl(
      { domain: this.domainName, repository: this.repositoryName },
      { account, region, urlSuffix: Aws.URL_SUFFIX },
    );
  }

  /** ARN of the domain, in the stack's partition. */
  public get domainArn(): string {
    const { account, region } = Stack.of(this);
    return `arn:${Aws.PARTITION}:codeartifact:${region}:${account}:domain/${this.domainName}`;
  }

  /** ARN of the npm repository, in the stack's partition. */
  public get repositoryArn(): string {
    const { account, region } = Stack.of(this);
    return `arn:${Aws.PARTITION}:codeartifact:${region}:${account}:repository/${this.domainName}/${this.repositoryName}`;
  }

  /**
   * ARN pattern of the scope's packages (`package/<domain>/<repo>/npm/<scope>/*`), in the stack's
   * partition: what {@link grantPublish} allows.
   */
  public get scopePackagesArn(): string {
    const { account, region } = Stack.of(this);
    return `arn:${Aws.PARTITION}:codeartifact:${region}:${account}:package/${this.domainName}/${this.repositoryName}/npm/${this.scope}/*`;
  }

  /**
   * Lets `grantee` run `npm install` against the repository: `aws codeartifact login` (or
   * `get-authorization-token`) and reads of any package, the upstream's included.
   */
  public grantRead(grantee: IGrantable): void {
    const add = (s: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(s);
    add(
      new PolicyStatement({ actions: ['codeartifact:GetAuthorizationToken'], resources: [this.domainArn] }),
    );
    add(
      new PolicyStatement({
        actions: ['codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository'],
        resources: [this.repositoryArn],
      }),
    );
    // The bearer token has no resource; the condition limits it to CodeArtifact.
    add(
      new PolicyStatement({
        actions: ['sts:GetServiceBearerToken'],
        resources: ['*'],
        conditions: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
      }),
    );
  }

  /** Lets `grantee` publish new versions of `@<scope>/*` packages (and read, which publishing needs). */
  public grantPublish(grantee: IGrantable): void {
    this.grantRead(grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['codeartifact:PublishPackageVersion', 'codeartifact:PutPackageMetadata'],
        resources: [this.scopePackagesArn],
      }),
    );
  }
}
