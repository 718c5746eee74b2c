import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { runCli } from '../../cli/program.js';
import { PLATFORM_FIXTURE_FILE } from '../fixtures/platform.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs aio in-process from source, as commands' own tests do. */
async function aio(...args: string[]) {
  const io = memoryIo(ROOT);
  const code = await runCli(['node', 'aio', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

describe('runCli (in-process)', () => {
  test('--version works from source, not only from the build', async () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    const r = await aio('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test('--help lists every command', async () => {
    const r = await aio('--help');
    expect(r.code).toBe(0);
    for (const cmd of [
      'validate',
      'synth',
      'routes',
      'route',
      'schema',
      'new',
      'update',
      'pipelines',
      'dev',
      'chaos',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
  });

  test('validate and routes read the platform file given with -f', async () => {
    expect((await aio('validate', '-f', PLATFORM_FIXTURE_FILE)).stdout).toContain('platform.yaml: ok');
    expect((await aio('routes', '-f', PLATFORM_FIXTURE_FILE)).stdout).toMatch(
      /\/api\/reviews\s+review\s+100%\s+0%/,
    );
  });

  test('an unknown command is a usage error, exit 2', async () => {
    const r = await aio('deploy');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'deploy'");
  });
});
