import { lintDockerfile } from '@aio/kit/testing';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

describe('order Dockerfile', () => {
  test('is multi-stage, non-root, production deps only, exec form, with a health check', () => {
    const text = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    expect(lintDockerfile(text)).toEqual([]);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^CMD \["node", "services\/order\/dist\/main.js"\]$/m);
  });
});
