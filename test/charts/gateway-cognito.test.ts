import { Testing } from 'cdk8s';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  checkEdgeAuth,
  checkPolicies,
  credentialTagValue,
  GatewayChart,
  platformManifests,
  SecretStoreChart,
  TokenIssuer,
  validateSchemas,
} from '../../charts/index.js';
import { loadPlatform, naming } from '../../model/index.js';
import { at, find, keySyncEnv, referenceModel, synth } from './helpers.js';

// `identity: { provision: cognito }`: the pool's issuer exists only once the environment is
// deployed, so the edge must read it in the cluster and nothing synthesized may name it.
const FIXTURE = fileURLToPath(new URL('../fixtures/cognito/platform.yaml', import.meta.url));
const model = loadPlatform(FIXTURE);
const gateway = synth(new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'prod')));
const prod = platformManifests(model, 'prod', { tracing: false });

describe('GatewayChart with a provisioned (Cognito) issuer', () => {
  test('copies the identity secret into Kong’s namespace through the gateway’s own store', () => {
    expect(find(gateway, 'ExternalSecret', 'aio-issuer', 'kong').spec).toEqual({
      refreshInterval: '1h',
      secretStoreRef: { kind: 'SecretStore', name: naming.gatewayIdentityStore },
      target: { name: 'aio-issuer', creationPolicy: 'Owner' },
      dataFrom: [{ extract: { key: 'allinone/prod/identity' } }],
    });
  });

  test('the key sync takes issuer, audience and JWKS URI from that Secret at run time', () => {
    const issuerEnv = keySyncEnv(gateway).filter((e) => ['ISSUER', 'AUDIENCE', 'JWKS_URI'].includes(e.name));
    expect(issuerEnv).toEqual([
      { name: 'ISSUER', valueFrom: { secretKeyRef: { name: 'aio-issuer', key: 'issuer' } } },
      { name: 'AUDIENCE', valueFrom: { secretKeyRef: { name: 'aio-issuer', key: 'audience' } } },
      { name: 'JWKS_URI', valueFrom: { secretKeyRef: { name: 'aio-issuer', key: 'jwksUri' } } },
    ]);
    // the Role does not grant the issuer Secret: the kubelet resolves secretKeyRef, not the job
    const names = at<{ resourceNames?: string[] }[]>(
      find(gateway, 'Role', 'issuer-key-sync', 'kong'),
      'rules',
    ).flatMap((r) => r.resourceNames ?? []);
    expect(names).not.toContain('aio-issuer');
  });

  test('nothing synthesized names the pool, and no Secret or secret value is written', () => {
    const text = JSON.stringify(prod);
    expect(text).not.toMatch(/cognito-idp|amazonaws\.com\/[\w-]+_[\w]+/);
    expect(prod.filter((o) => o.kind === 'Secret')).toEqual([]);
    // customer routes still run the whole check
    const route = find(gateway, 'HTTPRoute', 'order-api-orders', 'kong');
    expect(String(at(route, 'metadata', 'annotations', 'konghq.com/plugins')).split(',')).toEqual(
      expect.arrayContaining(['customer-token', 'customer-claims']),
    );
  });

  test('the services read the same secret, through the cluster store', () => {
    const es = find(prod, 'ExternalSecret', 'order-identity', 'order');
    expect(at(es, 'spec', 'dataFrom')).toEqual([{ extract: { key: 'allinone/prod/identity' } }]);
    expect(at(es, 'spec', 'secretStoreRef')).toEqual({
      kind: 'ClusterSecretStore',
      name: 'aws-secrets-manager',
    });
  });

  test('the gateway store assumes the reader role; the cluster store does not serve Kong', () => {
    expect(find(prod, 'SecretStore', naming.gatewayIdentityStore, 'kong').spec).toEqual({
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'ap-northeast-2',
          role: 'arn:aws:iam::222222222222:role/allinone-prod-gateway-identity-reader',
        },
      },
    });
    const conditions = at<{ namespaces: string[] }[]>(
      find(prod, 'ClusterSecretStore', 'aws-secrets-manager'),
      'spec',
      'conditions',
    );
    expect(conditions.flatMap((c) => c.namespaces)).not.toContain('kong');
  });

  test('the role ARN is in the partition of the region', () => {
    expect(naming.iamRoleArn('123456789012', 'cn-north-1', 'r')).toBe('arn:aws-cn:iam::123456789012:role/r');
    expect(naming.iamRoleArn('123456789012', 'us-gov-west-1', 'r')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/r',
    );
  });

  test('a named issuer gets no gateway store', () => {
    const named = referenceModel();
    expect(named.identity?.kind).toBe('issuer');
    const store = new SecretStoreChart(Testing.app(), 's', SecretStoreChart.propsFromModel(named, 'prod'));
    expect(synth(store).map((o) => o.kind)).toEqual(['ClusterSecretStore']);
  });

  test('the objects pass the schema, policy and edge-auth gates', async () => {
    expect(await validateSchemas(prod)).toEqual([]);
    expect(checkPolicies(prod)).toEqual([]);
    expect(checkEdgeAuth(prod, model)).toEqual([]);
  });
});

describe('EdgeTokenCheck credential tags', () => {
  test('encode what Kong refuses in a tag (, and /) and leave a Cognito pool id readable', () => {
    const issuer = 'https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_AbC123';
    expect(credentialTagValue(issuer)).toBe(
      'https:%2F%2Fcognito-idp.ap-northeast-2.amazonaws.com%2Fap-northeast-2_AbC123',
    );
    expect(credentialTagValue('a,b c%é')).toBe('a%2Cb%20c%25%C3%A9');
  });

  test('a TokenIssuer.of keeps its values in the job, without an ExternalSecret', () => {
    const props = GatewayChart.propsFromModel(model, 'prod');
    const objects = synth(
      new GatewayChart(Testing.app(), 'named', {
        ...props,
        identity: TokenIssuer.of({
          issuer: 'https://id.example/',
          audience: 'shop',
          jwksUri: 'https://id.example/jwks',
        }),
      }),
    );
    expect(keySyncEnv(objects).find((e) => e.name === 'ISSUER')).toEqual({
      name: 'ISSUER',
      value: 'https://id.example/',
    });
    expect(objects.filter((o) => o.kind === 'ExternalSecret')).toEqual([]);
  });
});
