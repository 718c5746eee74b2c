import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { EnvironmentModel } from '../../model/index.js';

/**
 * Everything that differs between a `small` (dev) and an `ha` (prod) environment, resolved once.
 *
 * Constructs take these as documented props; this is only where the platform's defaults for a size
 * profile live, so dev and prod differ in one place.
 */
export interface SizeProfile {
  /** True for `ha`: deletion protection, Multi-AZ data stores, snapshots on removal. */
  readonly production: boolean;
  readonly maxAzs: number;
  readonly natGateways: number;
  /** Data stores: SNAPSHOT in production. */
  readonly removalPolicy: RemovalPolicy;
  /** Log groups and keys, which cannot be snapshotted: RETAIN in production. */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly backupRetention: Duration;
  readonly logRetentionDays: number;
  readonly nodeInstanceTypes: readonly string[];
  readonly nodes: { readonly min: number; readonly desired: number; readonly max: number };
  readonly databaseCapacity: { readonly min: number; readonly max: number };
  readonly cacheNodeType: string;
}

/** The size profile of an environment. */
export function sizeProfile(env: Pick<EnvironmentModel, 'size'>): SizeProfile {
  if (env.size === 'ha') {
    return {
      production: true,
      maxAzs: 3,
      natGateways: 3,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      logRemovalPolicy: RemovalPolicy.RETAIN,
      backupRetention: Duration.days(14),
      logRetentionDays: 90,
      nodeInstanceTypes: ['m7i.xlarge', 'm6i.xlarge'],
      nodes: { min: 3, desired: 3, max: 12 },
      databaseCapacity: { min: 0.5, max: 16 },
      cacheNodeType: 'cache.r7g.large',
    };
  }
  return {
    production: false,
    maxAzs: 2,
    natGateways: 1,
    removalPolicy: RemovalPolicy.DESTROY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    backupRetention: Duration.days(1),
    logRetentionDays: 14,
    nodeInstanceTypes: ['m7i.large', 'm6i.large'],
    nodes: { min: 2, desired: 2, max: 4 },
    databaseCapacity: { min: 0.5, max: 4 },
    cacheNodeType: 'cache.t4g.small',
  };
}
