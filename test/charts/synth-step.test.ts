import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kubernetesStep } from '../../charts/synth-step.js';
import type { SynthStepResult } from '../../synth/synth-step.js';
import { referenceModel } from './helpers.js';

const model = referenceModel();
let out: string;
let dev: SynthStepResult;
let devDir: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'aio-k8s-'));
  devDir = join(out, 'dev');
  mkdirSync(join(devDir, 'k8s'), { recursive: true });
  writeFileSync(join(devDir, 'k8s', '07-stale.yaml'), 'kind: Stale\n');
  dev = await kubernetesStep.run({
    model,
    env: model.environment('dev'),
    envDir: devDir,
    progress: () => undefined,
  });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const docs = (file: string) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map(
    (d) => d.toJS() as { kind: string; metadata: { annotations?: Record<string, string> } },
  );

describe('kubernetesStep', () => {
  test('writes dist/<env>/k8s in apply order, clearing old files, with no gate findings', () => {
    expect(dev.findings).toEqual([]);
    expect(readdirSync(join(devDir, 'k8s'))).toEqual([
      '00-namespaces.yaml',
      '01-identity.yaml',
      '02-mesh-policy.yaml',
      '03-secrets.yaml',
      '04-workloads.yaml',
      '05-gateway.yaml',
    ]);
    expect(dev.files[0]).toBe('k8s/00-namespaces.yaml');
    const counted = dev.files.reduce((n, f) => n + docs(join(devDir, f)).length, 0);
    expect(counted).toBe(dev.manifests);
  });

  test('namespaces come first and the edge last; each object carries its Argo CD sync wave', () => {
    expect(new Set(docs(join(devDir, 'k8s/00-namespaces.yaml')).map((d) => d.kind))).toEqual(
      new Set(['Namespace']),
    );
    const gateway = docs(join(devDir, 'k8s/05-gateway.yaml'));
    expect(gateway.map((d) => d.kind).at(-1)).toBe('HTTPRoute');
    for (const f of dev.files) {
      const wave = String(Number(f.slice(4, 6)));
      for (const d of docs(join(devDir, f))) {
        expect(d.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe(wave);
      }
    }
    const es = docs(join(devDir, 'k8s/03-secrets.yaml')).find((d) => d.kind === 'ExternalSecret');
    expect(es?.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe(
      'SkipDryRunOnMissingResource=true',
    );
  });

  test('reports a credential anywhere under the env folder, naming file and line', async () => {
    const envDir = join(out, 'leaky');
    mkdirSync(join(envDir, 'cloudformation'), { recursive: true });
    writeFileSync(join(envDir, 'cloudformation', 'x.json'), '{\n"k": "AKIAABCDEFGHIJKLMNOP"\n}\n');
    const r = await kubernetesStep.run({
      model,
      env: model.environment('prod'),
      envDir,
      progress: () => undefined,
    });
    expect(r.findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['credential cloudformation/x.json:2']);
  });

  test('the reference platform (dev) synthesizes to the recorded manifests', () => {
    const text = dev.files.map((f) => `# ${f}\n${readFileSync(join(devDir, f), 'utf8')}`).join('\n');
    expect(text).toMatchSnapshot();
  });
});
