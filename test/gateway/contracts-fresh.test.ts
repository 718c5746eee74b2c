import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

describe('route contracts', () => {
  test('each committed services/<svc>/openapi.json is what the built service serves at /openapi.json', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin/write-contracts.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
