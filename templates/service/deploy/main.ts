// The Kubernetes manifests of {{name}}, from the platform's ServiceChart: the same library the
// platform repo synthesizes every service with, published for service repos as the light
// @aio/service-chart (cdk8s only). `npm run build && npm run synth` writes manifests/.
import { naming, ServiceChart, TokenIssuer } from '@aio/service-chart';
import { App } from 'cdk8s';

const platform = '{{platform}}';
const env = process.env.AIO_ENV ?? 'dev';
// CI sets IMAGE_TAG to the commit the image was built from; never 'latest'.
const imageTag = process.env.IMAGE_TAG ?? '0.1.0';

const app = new App({ outdir: 'manifests' });
new ServiceChart(app, '{{name}}', {
  name: '{{name}}',
  image: naming.image(platform, { account: '{{account}}', region: '{{region}}' }, '{{name}}', imageTag),
  port: 8080,
  owner: '{{owner}}',
  database: {{postgres}},
  databaseSecretName: naming.databaseSecret(platform, env, '{{name}}'),
  cache: {{redis}},
  cacheSecretName: naming.cacheSecret(platform, env, '{{name}}'),
  calls: {{callsJson}},
  // AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI: the issuer the platform's identity names
  tokenIssuer: {{tokenIssuer}},
  labels: naming.tags(platform, env),
});
app.synth();
