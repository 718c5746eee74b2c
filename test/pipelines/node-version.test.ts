import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { NODE_VERSION } from '../../pipelines/steps.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Every package.json of the repo, the template's included. */
const packageFiles = [
  'package.json',
  ...readdirSync(new URL('services/', root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `services/${d.name}/package.json`)
    .filter((file) => existsSync(new URL(file, root))),
  ...readdirSync(new URL('packages/', root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `packages/${d.name}/package.json`)
    .filter((file) => existsSync(new URL(file, root))),
  'templates/service/package.json.tmpl',
];

describe('Node version', () => {
  test('CI, the workflows and both Dockerfiles pin NODE_VERSION, a Node 24 LTS release', () => {
    expect(NODE_VERSION).toMatch(/^24\.\d+\.\d+$/);
    for (const file of ['services/Dockerfile', 'templates/service/Dockerfile']) {
      expect(read(file), file).toMatch(
        new RegExp(`^ARG NODE_IMAGE=node:${NODE_VERSION}-bookworm-slim$`, 'm'),
      );
      // every stage (services/Dockerfile also has the shadow comparer's two) starts from the one base
      const froms = read(file).match(/^FROM (\S+)/gm) ?? [];
      expect(froms.length, file).toBeGreaterThanOrEqual(3);
      expect(new Set(froms), file).toEqual(new Set(['FROM ${NODE_IMAGE}']));
    }
    expect(read('.ci/run')).toMatch(new RegExp(`^NODE24=${NODE_VERSION}$`, 'm'));
    for (const wf of ['.github/workflows/deploy.yml', '.github/workflows/pull-request.yml']) {
      const versions = [...read(wf).matchAll(/node-version: (\S+)/g)].map((m) => m[1]);
      expect(versions.length, wf).toBeGreaterThan(0);
      expect(new Set(versions), wf).toEqual(new Set([NODE_VERSION]));
    }
  });

  test('every package.json, the template included, accepts Node 22 and 24, as kubernetes-models requires', () => {
    const k8sModels = JSON.parse(read('node_modules/kubernetes-models/package.json')) as {
      engines: { node: string };
    };
    expect(k8sModels.engines.node).toBe('>=22');
    for (const file of packageFiles) {
      expect(read(file), file).toMatch(/"node": ">=22"/);
    }
    expect(packageFiles.length).toBeGreaterThanOrEqual(8);
  });
});
