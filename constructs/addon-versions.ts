/**
 * Every Helm chart the AWS layer installs, pinned in one place.
 *
 * Upgrade one chart per change, read its release notes first (Kong's Gateway API support and Istio's
 * CRDs change between minors), and run `aio synth` before deploying.
 *
 * @see https://istio.io/latest/docs/setup/install/helm/
 * @see https://github.com/Kong/charts/tree/main/charts/kong
 */
export interface ChartPin {
  /** Helm repository URL (`https://...` or `oci://...`). */
  readonly repository: string;
  /** Chart name in that repository. */
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
}

/** The pinned chart versions. */
export const ADDON_CHARTS = {
  /** Gateway API CRDs (standard channel), packaged as a CRD-only chart by Envoy Gateway. */
  gatewayApiCrds: {
    repository: 'oci://docker.io/envoyproxy',
    chart: 'gateway-crds-helm',
    version: 'v1.5.0',
  },
  istioBase: {
    repository: 'https://istio-release.storage.googleapis.com/charts',
    chart: 'base',
    version: '1.27.1',
  },
  /** Istio CNI node agent: sets up sidecar traffic redirection, so pods need no NET_ADMIN init container. */
  istioCni: {
    repository: 'https://istio-release.storage.googleapis.com/charts',
    chart: 'cni',
    version: '1.27.1',
  },
  istiod: {
    repository: 'https://istio-release.storage.googleapis.com/charts',
    chart: 'istiod',
    version: '1.27.1',
  },
  kong: { repository: 'https://charts.konghq.com', chart: 'kong', version: '2.48.0' },
  awsLoadBalancerController: {
    repository: 'https://aws.github.io/eks-charts',
    chart: 'aws-load-balancer-controller',
    version: '1.17.1',
  },
  externalSecrets: {
    repository: 'https://charts.external-secrets.io',
    chart: 'external-secrets',
    version: '0.19.2',
  },
  metricsServer: {
    repository: 'https://kubernetes-sigs.github.io/metrics-server/',
    chart: 'metrics-server',
    version: '3.12.2',
  },
  argoCd: { repository: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', version: '8.1.3' },
} as const satisfies Record<string, ChartPin>;

/** The image tag of the AWS Load Balancer Controller that matches its chart (and its IAM policy). */
export const AWS_LOAD_BALANCER_CONTROLLER_VERSION = 'v2.17.1';
