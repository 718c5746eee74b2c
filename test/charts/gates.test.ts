import { describe, expect, test } from 'vitest';
import {
  checkPolicies,
  platformManifests,
  scanText,
  validateSchemas,
  type KubeObject,
} from '../../charts/index.js';
import { referenceModel } from './helpers.js';

const model = referenceModel();
const dev = platformManifests(model, 'dev');

// Tests break objects deep inside their spec; typing every path would hide what each test changes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Editable = Record<string, any>;

function edit(kind: string, name: string, change: (o: Editable) => void): KubeObject[] {
  return dev.map((o) => {
    if (o.kind !== kind || o.metadata.name !== name) return o;
    const copy = structuredClone(o) as Editable;
    change(copy);
    return copy as KubeObject;
  });
}

const rules = (findings: readonly { rule: string; path: string }[]) =>
  findings.map((f) => `${f.rule} ${f.path}`);

describe('schema gate', () => {
  test('passes every object of the reference platform, dev and prod', async () => {
    expect(await validateSchemas(dev)).toEqual([]);
    expect(await validateSchemas(platformManifests(model, 'prod'))).toEqual([]);
  });

  test('names the object and field of a value the official schema rejects', async () => {
    const broken = edit('VirtualService', 'review', (o) => {
      o.spec.http[0].timeout = 2;
    });
    const findings = await validateSchemas(broken);
    expect(findings).toEqual([
      expect.objectContaining({
        gate: 'k8s-schema',
        level: 'error',
        path: 'VirtualService/review/review spec.http[0].timeout',
        message: 'must be string',
      }),
    ]);
  });

  test('rejects a kind it has no schema for', async () => {
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'x' } };
    const findings = await validateSchemas([unknown]);
    expect(rules(findings)).toEqual(['unknown-kind Widget/x/w apiVersion']);
  });

  test('checks KongPlugins against the repo schema', async () => {
    const broken = edit('KongPlugin', 'request-size-limiting', (o) => {
      o.config.size_unit = 'gigabytes';
    });
    expect(rules(await validateSchemas(broken))).toContain(
      'schema KongPlugin/kong/request-size-limiting config.size_unit',
    );
  });
});

describe('policy gate', () => {
  test('passes the reference platform', () => {
    expect(checkPolicies(dev)).toEqual([]);
  });

  test('rejects a privileged, root, probe-less container without limits on a latest image', () => {
    const broken = edit('Deployment', 'order', (o) => {
      const c = o.spec.template.spec.containers[0];
      c.securityContext = { privileged: true, runAsUser: 0 };
      delete o.spec.template.spec.securityContext;
      delete c.readinessProbe;
      delete c.resources.limits;
      c.image = 'example/order:latest';
    });
    const at = 'Deployment/order/order spec.template.spec.containers[0]';
    expect(rules(checkPolicies(broken))).toEqual(
      expect.arrayContaining([
        `pss-restricted ${at}.securityContext.privileged`,
        `pss-restricted ${at}.securityContext.allowPrivilegeEscalation`,
        `pss-restricted ${at}.securityContext.capabilities.drop`,
        `pss-restricted ${at}.securityContext.runAsNonRoot`,
        `pss-restricted ${at}.securityContext.runAsUser`,
        `pss-restricted ${at}.securityContext.seccompProfile.type`,
        `pss-restricted ${at}.securityContext.readOnlyRootFilesystem`,
        `container-probes ${at}.readinessProbe`,
        `container-resources ${at}.resources.limits.cpu`,
        `image-tag ${at}.image`,
      ]),
    );
  });

  test('rejects a Secret with literal data and values that look like credentials', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'order' },
      stringData: { password: 'hunter2' },
    };
    const leaky = edit('Deployment', 'order', (o) => {
      o.spec.template.spec.containers[0].env.push(
        { name: 'LEGACY_DB', value: 'postgres://app:s3cr3t@db.internal:5432/shop' },
        { name: 'API_TOKEN', value: 'abc123' },
      );
    });
    const found = rules(checkPolicies([...leaky, secret]));
    expect(found).toEqual(
      expect.arrayContaining([
        'secret-literal Secret/order/db stringData',
        'credential Secret/order/db stringData.password',
        expect.stringMatching(
          /^credential Deployment\/order\/order spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value$/,
        ),
      ]),
    );
    expect(found.filter((f) => f.startsWith('credential Deployment'))).toHaveLength(2);
  });

  test('text scan flags keys and tokens but not ExternalSecret templates', () => {
    expect(scanText('url: postgres://{{ .username }}:{{ .password | urlquery }}@{{ .host }}/db')).toEqual([]);
    expect(
      scanText('a: 1\nkey: AKIAABCDEFGHIJKLMNOP\n-----BEGIN RSA PRIVATE KEY-----').map((h) => h.line),
    ).toEqual([2, 3]);
  });
});
