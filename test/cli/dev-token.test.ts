import { DEV_TOKEN_AUDIENCE, DevTokenIssuer, freePort } from '@aio/kit/testing';
import { TokenVerifier } from '@aio/kit';
import { PLATFORM_PROCESSES, TOKEN_ISSUER } from '@aio/stack';
import { describe, expect, test } from 'vitest';
import { memoryIo } from '../../cli/cli-io.js';
import { runCli } from '../../cli/program.js';

/** `aio dev`'s --base-port that puts the token issuer on `port`. */
const basePortFor = (port: number) => port - PLATFORM_PROCESSES.findIndex((e) => e.name === TOKEN_ISSUER);

describe('aio dev token', () => {
  test('prints a token of the running stack’s issuer that the services accept', async () => {
    const port = await freePort();
    const issuer = await DevTokenIssuer.start({ port });
    try {
      const io = memoryIo();
      const code = await runCli(
        ['node', 'aio', 'dev', 'token', '--customer', 'alice', '--base-port', String(basePortFor(port))],
        io,
      );
      expect(code, io.stderr.join('\n')).toBe(0);
      const verifier = new TokenVerifier({ issuer: issuer.url, audience: DEV_TOKEN_AUDIENCE });
      expect(await verifier.verify(io.stdout.join(''))).toMatchObject({
        customerId: 'alice',
        issuer: issuer.url,
      });
    } finally {
      await issuer.close();
    }
  });

  test('fails with exit 1 naming the issuer address when the stack is not running', async () => {
    const io = memoryIo();
    const port = await freePort();
    const code = await runCli(
      ['node', 'aio', 'dev', 'token', '--customer', 'alice', '--base-port', String(basePortFor(port))],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr.join('\n')).toContain(`no token issuer answers at http://127.0.0.1:${port}`);
    expect(io.stdout).toEqual([]);
  });

  test.each([
    [[], /--customer: is required/],
    [['--customer', 'a b'], /--customer: must be 1-128 printable characters/],
    [['--customer', 'alice', '--base-port', 'x'], /--base-port: must be a port/],
  ])('rejects %j as a usage error (exit 2)', async (args, message) => {
    const io = memoryIo();
    expect(await runCli(['node', 'aio', 'dev', 'token', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });
});
