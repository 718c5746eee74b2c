/**
 * `@aio/service-chart`: what a service repo needs to synthesize its own Kubernetes objects, and
 * nothing of the platform's AWS side. The platform's own `ServiceChart` (charts/service-chart.ts)
 * and the names it derives (model/naming.ts), bundled by `build.mjs` from the same sources the
 * platform synthesizes every service with, so a service's preview is what the platform deploys.
 *
 * @example
 * import { App } from 'cdk8s';
 * import { ServiceChart, naming } from '@aio/service-chart';
 * const app = new App({ outdir: 'manifests' });
 * new ServiceChart(app, 'review', { name: 'review', image: naming.image('allinone', env, 'review', '1.2.0') });
 * app.synth();
 * @see ../README.md
 */
export {
  SERVICE_PORT,
  ServiceChart,
  type ServiceChartProps,
  type ServiceMeshOptions,
  type ServiceResources,
} from '../../../charts/service-chart.js';
export {
  ServiceCredentials,
  type SecretKeyRef,
  type ServiceCredentialsProps,
} from '../../../charts/service-credentials.js';
export { ServiceMeshPolicy, type ServiceMeshPolicyProps } from '../../../charts/service-mesh-policy.js';
export { TOKEN_ISSUER_ENV, TokenIssuer, type TokenIssuerValues } from '../../../charts/token-issuer.js';
export { peerUrlVariable } from '../../../model/cross-checks.js';
export { naming } from '../../../model/naming.js';
export type { TierPolicy } from '../../../model/schema.js';
export { ValidationError } from '../../../model/validation-error.js';
