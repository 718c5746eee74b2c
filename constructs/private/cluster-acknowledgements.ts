import { CfnCondition, type CfnElement, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { acknowledge } from './acknowledge.js';

const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

/**
 * Acknowledges the cdk-nag findings on the roles and functions that aws-eks-v2 creates for the
 * cluster, its node group and its kubectl provider. They are AWS's documented minimum for EKS; each
 * reason is repeated in docs/security.md.
 */
export function acknowledgeClusterInternals(cluster: eks.Cluster, nodegroup: eks.Nodegroup): void {
  acknowledge(
    cluster.role,
    [managed('AmazonEKSClusterPolicy')],
    'AmazonEKSClusterPolicy is the policy EKS requires on the cluster service role; AWS maintains it as EKS gains features',
  );
  acknowledge(
    nodegroup.role,
    [
      managed('AmazonEKSWorkerNodePolicy'),
      managed('AmazonEKS_CNI_Policy'),
      managed('AmazonEC2ContainerRegistryReadOnly'),
    ],
    'the managed node group role needs the three AWS managed policies EKS documents for nodes (kubelet, VPC CNI, image pulls); workloads get their own Pod Identity roles',
  );
  const provider = cluster.node.tryFindChild('KubectlProvider');
  if (!provider) return;
  const stack = Stack.of(cluster);
  const logicalId = (el: CfnElement) => stack.resolve(el.logicalId) as string;
  const handler = provider.node.findChild('Handler');
  const condition = handler.node.findAll().find((c): c is CfnCondition => c instanceof CfnCondition);
  const handlerFunction = handler.node.defaultChild as CfnElement;
  acknowledge(
    handler,
    [
      managed('service-role/AWSLambdaBasicExecutionRole'),
      managed('service-role/AWSLambdaVPCAccessExecutionRole'),
      managed('AmazonEC2ContainerRegistryReadOnly'),
      ...(condition
        ? [
            `AwsSolutions-IAM4[Policy::${JSON.stringify({
              'Fn::If': [
                logicalId(condition),
                {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly',
                    ],
                  ],
                },
                { Ref: 'AWS::NoValue' },
              ],
            })}]`,
          ]
        : []),
    ],
    'the kubectl provider function is created by aws-eks-v2 with the AWS managed Lambda execution, VPC access and ECR read policies; it runs in the private subnets and only talks to this cluster',
  );
  acknowledge(
    handler,
    ['AwsSolutions-L1'],
    'aws-eks-v2 pins the kubectl handler runtime to the Python version its bundled kubectl/helm code is tested with',
  );
  const framework = provider.node.findChild('Provider');
  acknowledge(
    framework,
    [
      managed('service-role/AWSLambdaBasicExecutionRole'),
      managed('service-role/AWSLambdaVPCAccessExecutionRole'),
      `AwsSolutions-IAM5[Resource::<${logicalId(handlerFunction)}.Arn>:*]`,
    ],
    'the custom resource provider framework of the kubectl provider may invoke every version of its own handler function (the :* is the version qualifier), with the AWS managed Lambda execution policies',
  );
  acknowledge(
    cluster,
    ['CloudFormation-Validate::W9009'],
    "aws-eks-v2 writes EncryptionConfig.Resources: ['secrets'], which CloudFormation marks deprecated but still requires to enable KMS envelope encryption of Secrets",
  );
}
