import type { GatewayListener } from './crds/gateway-api.js';

/**
 * Where TLS for the platform hosts terminates. Create one with a static factory.
 *
 * @see https://gateway-api.sigs.k8s.io/guides/tls/
 */
export abstract class GatewayTls {
  /**
   * TLS ends at the AWS load balancer with an ACM certificate (the AWS layer sets it on Kong's
   * proxy Service); the Gateway listens for the decrypted traffic on port 80. The private key
   * never leaves ACM.
   */
  public static loadBalancer(certificateArn: string): GatewayTls {
    return new LoadBalancerTls(certificateArn);
  }

  /** Kong terminates TLS with the certificate in a Secret in its namespace (e.g. from cert-manager). */
  public static secret(secretName: string): GatewayTls {
    return new SecretTls(secretName);
  }

  /** The listeners for `hosts`. */
  public abstract listeners(hosts: readonly string[]): GatewayListener[];

  /** Annotations for the Gateway. */
  public abstract annotations(): Record<string, string>;
}

class LoadBalancerTls extends GatewayTls {
  constructor(private readonly certificateArn: string) {
    super();
  }

  public listeners(hosts: readonly string[]): GatewayListener[] {
    return hosts.map((hostname, i) => ({
      name: `http-${i}`,
      hostname,
      port: 80,
      protocol: 'HTTP',
      allowedRoutes: { namespaces: { from: 'Same' } },
    }));
  }

  public annotations(): Record<string, string> {
    return { 'aio.allinone.example/tls-certificate-arn': this.certificateArn };
  }
}

class SecretTls extends GatewayTls {
  constructor(private readonly secretName: string) {
    super();
  }

  public listeners(hosts: readonly string[]): GatewayListener[] {
    return hosts.map((hostname, i) => ({
      name: `https-${i}`,
      hostname,
      port: 443,
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: this.secretName }] },
      allowedRoutes: { namespaces: { from: 'Same' } },
    }));
  }

  public annotations(): Record<string, string> {
    return {};
  }
}
