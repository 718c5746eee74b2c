import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { naming } from '../../model/index.js';
import { AWS_LOAD_BALANCER_CONTROLLER_VERSION } from '../addon-versions.js';
import type { ClusterAddonsProps } from '../cluster-addons.js';

// Helm values and manifests of ClusterAddons, kept apart so the construct reads as the install order.

export function kongValues(props: ClusterAddonsProps, replicas: number): Record<string, unknown> {
  const lb = 'service.beta.kubernetes.io/aws-load-balancer';
  const tls = props.certificateArn
    ? { [`${lb}-ssl-cert`]: props.certificateArn, [`${lb}-ssl-ports`]: 'kong-proxy-tls' }
    : {};
  return {
    replicaCount: replicas,
    // DB-less: the ingress controller pushes configuration from Gateway API objects. Kong's
    // opentelemetry plugin emits spans only with tracing instrumentations on and a sampling rate.
    env: {
      database: 'off',
      tracing_instrumentations: 'all',
      tracing_sampling_rate: (props.tracingSamplingPercent ?? 10) / 100,
      // the gateway's cohort function (charts/edge-cohort.ts) runs in Kong's Lua sandbox
      untrusted_lua_sandbox_environment: naming.gatewayLuaSandboxGlobals.join(','),
      untrusted_lua_sandbox_requires: naming.gatewayLuaSandboxRequires.join(','),
    },
    ingressController: { enabled: true, installCRDs: false },
    deployment: { serviceAccount: { create: true, name: naming.gatewayServiceAccount } },
    // Inbound from the NLB is plain TCP and must not hit the sidecar's STRICT mTLS; outbound to
    // services goes through the sidecar so Istio policy, retries and mTLS apply.
    podAnnotations: { 'traffic.sidecar.istio.io/includeInboundPorts': '' },
    proxy: {
      type: 'LoadBalancer',
      annotations: {
        [`${lb}-type`]: 'external',
        [`${lb}-nlb-target-type`]: 'ip',
        [`${lb}-scheme`]: 'internet-facing',
        ...tls,
      },
      tls: props.certificateArn ? { enabled: true, overrideServiceTargetPort: 8000 } : { enabled: true },
    },
  };
}

export function argoApplication(props: ClusterAddonsProps): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: `${props.platform}-${props.environment}`, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: {
        repoURL: props.gitops.repoUrl,
        targetRevision: props.gitops.revision,
        path: `${props.gitops.path}/${props.environment}/k8s`,
        directory: { recurse: true },
      },
      destination: { server: 'https://kubernetes.default.svc' },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ['CreateNamespace=false', 'ServerSideApply=true'],
        retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
      },
    },
  };
}

/**
 * The IAM policy of the AWS Load Balancer Controller version in addon-versions.ts, as shipped by
 * aws-cdk-lib, with every `arn:aws:` rewritten to the stack's partition.
 */
export function loadBalancerControllerPolicy(stack: Stack): {
  statements: iam.PolicyStatement[];
  wildcardResources: string[];
} {
  const cdkLib = dirname(createRequire(import.meta.url).resolve('aws-cdk-lib'));
  const file = join(
    cdkLib,
    'aws-eks-v2',
    'lib',
    'addons',
    `alb-iam_policy-${AWS_LOAD_BALANCER_CONTROLLER_VERSION}.json`,
  );
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { Statement: { Resource?: string | string[] }[] };
  // The published policy spells the commercial partition; rewrite it to the stack's, as
  // aws-eks-v2's AlbController does for the same file, so GovCloud and China regions work.
  const inPartition = (arn: string, partition: string) => arn.replace(/^arn:aws:/, `arn:${partition}:`);
  const statements = doc.Statement.map((s) =>
    s.Resource === undefined
      ? s
      : {
          ...s,
          Resource: Array.isArray(s.Resource)
            ? s.Resource.map((r) => inPartition(r, stack.partition))
            : inPartition(s.Resource, stack.partition),
        },
  );
  const resources = doc.Statement.flatMap((s) => (s.Resource === undefined ? [] : [s.Resource].flat()));
  return {
    statements: statements.map((s) => iam.PolicyStatement.fromJson(s)),
    // As cdk-nag prints them: the partition token as `<AWS::Partition>`.
    wildcardResources: [
      ...new Set(
        resources
          .filter((r) => r.includes('*'))
          .map((r) => inPartition(r, nagToken(stack.partition, 'AWS::Partition'))),
      ),
    ],
  };
}

/** How cdk-nag renders an ARN with the partition pseudo parameter. */
export function nagArn(stack: Stack, rest: string): string {
  return `arn:${nagToken(stack.partition, 'AWS::Partition')}:${rest}`;
}

/** How cdk-nag renders a value that may be a pseudo parameter. */
export function nagToken(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<${pseudo}>` : value;
}
