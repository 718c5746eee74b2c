/** The frozen platform fixture's text (a copy of the reference platform.yaml). */
export { PLATFORM_FIXTURE_YAML as REFERENCE_YAML } from '../fixtures/platform.js';

/**
 * A minimal valid platform whose `services:` block is `services` (indented by two spaces).
 * Line 10 is the first line of the services block.
 */
export function minimalPlatform(services: string): string {
  return [
    'platform: allinone',
    'environments:',
    "  dev: { account: '111111111111', region: ap-northeast-2, size: small }",
    'legacy:',
    '  monolith: { host: monolith.example, port: 8080 }',
    'gateway: { kind: kong, hosts: [shop.example] }',
    "gitops: { repoUrl: 'https://github.com/allinone/platform.git' }",
    'tracing: { backend: jaeger }',
    'services:',
    services.replace(/\n$/, ''),
    // After the services, so that their line numbers stay as documented above.
    'identity: { issuer: https://login.example/, audience: shop }',
    '',
  ].join('\n');
}
