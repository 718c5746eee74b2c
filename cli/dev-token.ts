import type { CliIo } from './cli-io.js';

/** A customer id as the services accept one (the token's `sub`). */
const CUSTOMER = /^[!-~]{1,128}$/;

/**
 * `aio dev token --customer <id>`: prints a token of the running `aio dev` stack's development
 * issuer for that customer, so a user can call the local API as the customer:
 * `curl -H "authorization: Bearer $(npx aio dev token --customer alice)" ...`.
 *
 * The issuer's port follows `aio dev`'s fixed ports (`--base-port` plus the issuer's place in the
 * launcher's table), so pass the `--base-port` the stack was started with.
 *
 * @returns 0 with the token on stdout, 1 when no issuer answers (the stack is not running)
 * @throws UsageError for a missing or invalid `--customer` or `--base-port` (exit 2)
 */
export async function devTokenCommand(
  io: CliIo,
  basePortFlag: string,
  customer: string | undefined,
): Promise<number> {
  const [{ PLATFORM_PROCESSES, TOKEN_ISSUER }, { UsageError }, { IssuerTokens }] = await Promise.all([
    import('@aio/stack'),
    import('../model/validation-error.js'),
    import('@aio/kit/testing'),
  ]);
  if (customer === undefined) throw new UsageError('--customer: is required, e.g. --customer alice');
  if (!CUSTOMER.test(customer)) {
    throw new UsageError(
      `--customer: must be 1-128 printable characters without spaces, got ${JSON.stringify(customer)}`,
    );
  }
  const basePort = Number(basePortFlag);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65500) {
    throw new UsageError(`--base-port: must be a port from 1 to 65500, got ${basePortFlag}`);
  }
  const url = `http://127.0.0.1:${basePort + PLATFORM_PROCESSES.findIndex((e) => e.name === TOKEN_ISSUER)}`;
  try {
    const discovery = await fetch(`${url}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!discovery.ok || (((await discovery.json()) as { issuer?: string }).issuer ?? '') !== url)
      throw new Error('not the development issuer');
  } catch {
    io.err(
      `error: no token issuer answers at ${url}: start the local stack with 'npx aio dev' first (with the same --base-port, ${basePort})`,
    );
    return 1;
  }
  io.out(await new IssuerTokens(url).for(customer));
  return 0;
}
