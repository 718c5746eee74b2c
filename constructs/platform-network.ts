import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { naming, ValidationError } from '../model/index.js';
import { availabilityZonesOf } from './private/availability-zones.js';

/** Properties for {@link PlatformNetwork}. */
export interface PlatformNetworkProps {
  /** Region of the stack, used to name the availability zones. */
  readonly region: string;
  /**
   * Number of availability zones.
   *
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Explicit availability zones (overrides `maxAzs`).
   *
   * @default - the first `maxAzs` zones of the region
   */
  readonly availabilityZones?: readonly string[];
  /**
   * NAT gateways: 1 for dev, one per AZ for production.
   *
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * CIDR block of the VPC.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Days to keep VPC flow logs.
   *
   * @default 14
   */
  readonly flowLogRetentionDays?: number;
  /**
   * What happens to the flow log group when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

const INTERFACE_ENDPOINTS = {
  Ecr: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
} as const;

/**
 * The VPC of one environment: public subnets for the gateway load balancer, private subnets with
 * egress for nodes, pods and data stores, flow logs, and endpoints for the AWS APIs that workloads
 * call most (so image pulls and secret reads do not cross the NAT gateway).
 *
 * The private subnets are /19 because the VPC CNI gives every pod a VPC address.
 *
 * @see https://docs.aws.amazon.com/eks/latest/best-practices/subnets.html
 */
export class PlatformNetwork extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;
  /** The security group of the interface endpoints (HTTPS from the VPC CIDR). */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** The flow log group. */
  public readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    const natGateways = props.natGateways ?? 1;
    if (!Number.isInteger(maxAzs) || maxAzs < 2 || maxAzs > 3) {
      throw new ValidationError(`'maxAzs' must be 2 or 3 (EKS needs two zones), got ${maxAzs}`, {
        path: this.node.path,
      });
    }
    if (!Number.isInteger(natGateways) || natGateways < 1 || natGateways > maxAzs) {
      throw new ValidationError(`'natGateways' must be from 1 to 'maxAzs' (${maxAzs}), got ${natGateways}`, {
        path: this.node.path,
      });
    }
    const cidr = props.cidr ?? naming.defaultVpcCidr;
    const availabilityZones = props.availabilityZones
      ? [...props.availabilityZones]
      : availabilityZonesOf(props.region, maxAzs, this.node.path);

    this.vpc = new ec2.Vpc(this, 'Resource', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      availabilityZones,
      natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
    });

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetentionDays ?? logs.RetentionDays.TWO_WEEKS,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    // One security group for all interface endpoints: HTTPS from inside the VPC only. The CIDR is
    // written literally (not Fn::GetAtt) so reviewers and cdk-nag can see it is not 0.0.0.0/0.
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from the VPC',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
      });
    }
  }
}
