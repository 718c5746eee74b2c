import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { lintDockerfile } from '../src/testing/index.js';

const servicesDir = new URL('../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', servicesDir), 'utf8');
/** Every service the Dockerfile builds: each folder of services/ with an entry point (not the kit, not the stack launcher). */
const services = readdirSync(servicesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/src/main.ts`, servicesDir)))
  .map((d) => d.name);

describe('services/Dockerfile', () => {
  test('passes the lint: multi-stage, pinned, non-root, production deps, probes, exec form', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });

  test('its shadow-compare target passes the lint too, and runs the bundle it copies', () => {
    expect(lintDockerfile(dockerfile, { target: 'shadow-compare' })).toEqual([]);
    const target = dockerfile.slice(dockerfile.indexOf('AS shadow-compare'));
    expect(target.slice(0, target.indexOf('\nFROM '))).toMatch(
      /COPY --from=comparer-build --chown=root:root \/out\/shadow-compare\.mjs \.\/\n[\s\S]*USER 1000:1000[\s\S]*CMD \["node", "shadow-compare\.mjs"\]/,
    );
    // the services' default target stays the last stage
    expect(dockerfile.lastIndexOf('\nFROM ')).toBe(dockerfile.indexOf('\nFROM ${NODE_IMAGE} AS runtime'));
  });

  test('is the only service Dockerfile, and every service has what it copies and runs', () => {
    expect(services).toEqual(expect.arrayContaining(['inventory', 'order', 'payment']));
    for (const service of services) {
      expect(
        existsSync(new URL(`${service}/Dockerfile`, servicesDir)),
        `services/${service}/Dockerfile`,
      ).toBe(false);
      // `npx tsc -b services/${SERVICE}` builds it, and CMD runs dist/main.js from its folder.
      expect(existsSync(new URL(`${service}/tsconfig.json`, servicesDir)), service).toBe(true);
      const pkg = JSON.parse(readFileSync(new URL(`${service}/package.json`, servicesDir), 'utf8')) as {
        main?: string;
      };
      expect(pkg.main, service).toBe('dist/main.js');
    }
  });
});

describe('lintDockerfile', () => {
  test('resolves a base image from a global ARG default, and reports one without a pinned default', () => {
    const rest = ['FROM ${BASE}', 'USER 1000', 'HEALTHCHECK CMD ["true"]', 'CMD ["node", "main.js"]'];
    const lint = (arg: string) => lintDockerfile([arg, 'FROM ${BASE} AS build', ...rest].join('\n'));
    expect(lint('ARG BASE=node:24.22.3-bookworm-slim')).toEqual([]);
    expect(lint('ARG BASE=node:latest')).toEqual([
      expect.objectContaining({ rule: 'pinned-base', line: 2 }),
      expect.objectContaining({ rule: 'pinned-base', line: 3 }),
    ]);
    expect(lint('ARG BASE').map((f) => f.message)).toContain(
      'base image ${BASE} must be pinned to a version',
    );
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

  test('checks a --target stage as the final one, and reports a target that does not exist', () => {
    const text = [
      'FROM node:20.20-slim AS build',
      'FROM node:20.20-slim AS tool',
      'CMD ["node", "tool.js"]',
      'FROM node:20.20-slim',
      'USER node',
      '# Probes: GET /healthz',
      'CMD ["node", "main.js"]',
    ].join('\n');
    expect(lintDockerfile(text)).toEqual([]);
    expect(lintDockerfile(text, { target: 'tool' }).map((f) => f.rule)).toEqual(['non-root']);
    expect(lintDockerfile(text, { target: 'nope' })).toEqual([
      { rule: 'target', message: 'no stage named nope' },
    ]);
  });

  test('reports USER root in the final stage even when an earlier stage is non-root', () => {
    const text = 'FROM node:20 AS a\nUSER node\nFROM node:20\nUSER 0\n# Probes: GET /healthz\nCMD ["node"]';
    expect(lintDockerfile(text).map((f) => f.rule)).toEqual(['non-root']);
  });
});
