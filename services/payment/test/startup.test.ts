import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe.each([
  ['payment', { PORT: 'abc' }, ['DATABASE_URL: is required', 'PORT: ']],
  [
    'inventory',
    { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', RESERVATION_TTL_SECONDS: '-1' },
    ['REDIS_URL: is required', 'RESERVATION_TTL_SECONDS: '],
  ],
] as const)('%s dist/main.js', (name, env, expected) => {
  test('exits 1 naming every invalid variable when env is invalid', () => {
    const main = `${root}services/${name}/dist/main.js`;
    expect(existsSync(main), `${main} missing: run npm run build`).toBe(true);
    const result = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH, ...env, OTEL_SDK_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    for (const line of expected) expect(result.stderr).toContain(`config error: ${line}`);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
});
