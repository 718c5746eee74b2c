import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { lintDockerfile } from '../src/testing/index.js';

const read = (service: string): string =>
  readFileSync(new URL(`../../${service}/Dockerfile`, import.meta.url), 'utf8');

describe('lintDockerfile', () => {
  test.each(['inventory', 'payment'])('passes the %s Dockerfile', (service) => {
    expect(lintDockerfile(read(service))).toEqual([]);
  });

  test('reports a single-stage, root, dev-deps, shell-form image with secrets', () => {
    const findings = lintDockerfile(
      [
        'FROM node:latest',
        'ENV DB_PASSWORD=hunter2',
        'COPY . .',
        'RUN npm ci',
        'ADD https://example.com/x.tgz /x',
        'CMD node dist/main.js',
      ].join('\n'),
    );
    expect(findings.map((f) => f.rule).sort()).toEqual(
      [
        'exec-cmd',
        'multi-stage',
        'no-remote-add',
        'no-secrets',
        'non-root',
        'pinned-base',
        'probes',
        'prod-deps',
      ].sort(),
    );
  });

  test('reports node_modules copied from a stage that installed dev dependencies', () => {
    const text = [
      'FROM node:20.20-slim AS build',
      'RUN npm ci',
      'FROM node:20.20-slim',
      'COPY --from=build /app/node_modules node_modules',
      'USER node',
      'HEALTHCHECK CMD ["true"]',
      'CMD ["node", "main.js"]',
    ].join('\n');
    expect(lintDockerfile(text)).toEqual([expect.objectContaining({ rule: 'prod-deps', line: 4 })]);
  });

  test('reports USER root in the final stage even when an earlier stage is non-root', () => {
    const text = 'FROM node:20 AS a\nUSER node\nFROM node:20\nUSER 0\n# Probes: GET /healthz\nCMD ["node"]';
    expect(lintDockerfile(text).map((f) => f.rule)).toEqual(['non-root']);
  });
});
