import { lintDockerfile } from '@aio/kit/testing';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import {
  CI_WORKFLOW,
  isManaged,
  loadServiceTemplate,
  managedMarker,
  renderService,
  SCAFFOLD_FILE,
} from '../../templates/render-service.js';
import { renderTemplate } from '../../templates/template-engine.js';
import { workflowSchemaErrors } from '../pipelines/workflow-schema.js';
import { BARE_ANSWERS, FULL_ANSWERS } from './fixtures.js';

const template = loadServiceTemplate();
const full = renderService(FULL_ANSWERS, template);
const bare = renderService(BARE_ANSWERS, template);

describe('renderService', () => {
  test('renders both answer sets in memory (snapshot)', () => {
    // ci.yml is pipelines/' output, validated below and tested there; leave it out so their
    // changes do not break this snapshot.
    const own = (files: ReadonlyMap<string, string>) =>
      Object.fromEntries([...files].filter(([path]) => path !== CI_WORKFLOW));
    expect({ full: own(full), bare: own(bare) }).toMatchSnapshot();
  });

  test('marks every managed file, and no sample file', () => {
    for (const [path, text] of full) {
      const marked =
        text.includes('do not edit; run aio-service update') || text.includes('Regenerate with: aio update');
      expect({ path, marked }).toEqual({ path, marked: isManaged(template, path) });
    }
    expect(full.get('Dockerfile')!.split('\n').slice(0, 2)).toEqual([
      '# syntax=docker/dockerfile:1',
      managedMarker('Dockerfile', template.version),
    ]);
    expect([...full.keys()].filter((p) => isManaged(template, p))).toEqual([
      '.dockerignore',
      CI_WORKFLOW,
      '.npmrc',
      'Dockerfile',
      'deploy/main.ts',
      'deploy/tsconfig.json',
    ]);
  });

  test('scopes @aio to the platform registry in .npmrc, with no token, and CI logs in at run time', () => {
    const npmrc = full.get('.npmrc')!;
    const settings = npmrc.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(settings).toEqual([`@aio:registry=${FULL_ANSWERS.registry}`]);
    expect(npmrc).not.toMatch(/_authToken|_auth=|password/);
    expect(npmrc).toContain(
      '#   aws codeartifact login --tool npm --namespace aio --domain allinone --domain-owner 111111111111 --repository npm --region ap-northeast-1',
    );
    expect(full.get('.gitignore')).not.toContain('.npmrc');
    const ci = full.get(CI_WORKFLOW)!;
    expect(ci).toContain('role-to-assume: arn:aws:iam::111111111111:role/allinone-packages-read');
    expect(ci.indexOf('registry login (@aio)')).toBeLessThan(ci.indexOf('run: npm ci'));
    expect(ci).toContain('--secret id=npmrc,src="$HOME/.npmrc"');
    // A registry that is not CodeArtifact gets the scope line, and no AWS login in CI.
    const verdaccio = renderService({ ...BARE_ANSWERS, registry: 'http://localhost:4873/' }, template);
    expect(verdaccio.get('.npmrc')).toContain('@aio:registry=http://localhost:4873/\n');
    expect(verdaccio.get(CI_WORKFLOW)).not.toContain('codeartifact');
  });

  test("gives the chart the platform's token issuer, and makes the example a customer route tested with real tokens", () => {
    expect(full.get('deploy/main.ts')).toContain(
      "  tokenIssuer: TokenIssuer.of({ issuer: 'https://login.example.com/', audience: 'allinone-shop', jwksUri: 'https://login.example.com/.well-known/jwks.json' }),\n",
    );
    expect(bare.get('deploy/main.ts')).toContain(
      '  tokenIssuer: TokenIssuer.fromSecret(naming.identitySecret(platform, env)),\n',
    );
    for (const files of [full, bare]) {
      const routes = files.get('src/routes/example.ts')!;
      expect(routes.match(/config: \{ public: true \}/g)?.length).toBeGreaterThan(0);
      expect(routes).not.toMatch(/config: \{[^}]*auth:/);
      const test = files.get('test/service.test.ts')!;
      expect(test).toContain('issuer = await DevTokenIssuer.start();');
      expect(test).toContain('AUTH_ISSUER: issuer.url,');
      expect(test).toContain('refuses /api/');
    }
  });

  test('records the template version and the answers', () => {
    expect(JSON.parse(full.get(SCAFFOLD_FILE)!)).toEqual({
      template: 'service',
      templateVersion: template.version,
      answers: FULL_ANSWERS,
    });
  });

  test('adds the migration, database wiring and Postgres CI container only with --database postgres', () => {
    expect(full.has('src/migrations.ts')).toBe(true);
    expect(bare.has('src/migrations.ts')).toBe(false);
    expect(full.get('deploy/main.ts')).toContain('database: true');
    expect(bare.get('deploy/main.ts')).toContain('database: false');
    expect(full.get('src/config.ts')).toContain(
      "REVIEW_URL: z.url().default('http://review.review.svc.cluster.local')",
    );
    expect(bare.get('src/config.ts')).toContain('omit({ DATABASE_URL: true })');
    const ci = parse(full.get(CI_WORKFLOW)!) as { jobs: { check: { services?: object } } };
    expect(Object.keys(ci.jobs.check.services ?? {})).toEqual(['postgres', 'redis']);
    expect(
      (parse(bare.get(CI_WORKFLOW)!) as { jobs: { check: { services?: object } } }).jobs.check.services,
    ).toBeUndefined();
  });

  test('generates a workflow that validates against the GitHub Actions schema', () => {
    expect(workflowSchemaErrors(full.get(CI_WORKFLOW)!)).toEqual([]);
    expect(workflowSchemaErrors(bare.get(CI_WORKFLOW)!)).toEqual([]);
    const ci = parse(full.get(CI_WORKFLOW)!) as { jobs: Record<string, { steps: { run?: string }[] }> };
    expect(Object.keys(ci.jobs)).toEqual(['check', 'image', 'promote']);
    expect(JSON.stringify(ci.jobs.promote)).toContain('services[strenv(SERVICE)].imageTag');
  });

  test('builds a non-root, multi-stage image', () => {
    const dockerfile = full.get('Dockerfile')!;
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).not.toMatch(/latest/);
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  test('depends on the platform packages at ranges that accept the versions in this repo', () => {
    const pkg = JSON.parse(full.get('package.json')!) as Record<string, Record<string, string>>;
    const kit = JSON.parse(
      readFileSync(new URL('../../services/kit/package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    const serviceChart = JSON.parse(
      readFileSync(new URL('../../packages/service-chart/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(pkg.dependencies!['@aio/kit']).toBe(`^${kit.version}`);
    expect(pkg.devDependencies!['@aio/service-chart']).toBe(`^${serviceChart.version}`);
    // Not the whole toolkit (aws-cdk-lib, Pulumi: 620 MB) for 8 Kubernetes objects.
    expect(JSON.stringify(pkg)).not.toContain('@aio/platform');
    expect(full.get('deploy/main.ts')).toContain("from '@aio/service-chart'");
  });
});

describe('renderTemplate', () => {
  test('keeps or drops blocks and their lines', () => {
    const text = 'a\n{{#if on}}\nb {{name}}\n{{/if}}\n{{#unless on}}\nc\n{{/unless}}\nd\n';
    expect(renderTemplate(text, { on: true, name: 'x' })).toBe('a\nb x\nd\n');
    expect(renderTemplate(text, { on: false, name: 'x' })).toBe('a\nc\nd\n');
  });

  test('throws on an unknown variable, naming the template', () => {
    expect(() => renderTemplate('{{nmae}}', { name: 'x' }, 'src/a.ts')).toThrow(
      "src/a.ts: unknown template variable 'nmae'; known variables are name",
    );
  });

  test('throws on an unclosed block', () => {
    expect(() => renderTemplate('{{#if a}}x', { a: true })).toThrow('{{#if a}} is never closed');
  });
});
