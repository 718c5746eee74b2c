import { DevTokenIssuer, KeyFileError } from '@aio/kit/testing';

/**
 * The `token-issuer` process of the local stack: a {@link DevTokenIssuer} on `PORT`, stopped by
 * SIGTERM or SIGINT. Its keys live in `TOKEN_ISSUER_KEYS_FILE` (the stack gives it a file in its
 * state directory), so a restart, even after `kill -9`, publishes the same JWKS and every token it
 * signed before stays valid; without the variable they live only in this process.
 */
const log = (level: number, msg: string, more: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ level, msg, ...more })}\n`);
const keysFile = process.env.TOKEN_ISSUER_KEYS_FILE || undefined;
let issuer: DevTokenIssuer;
try {
  issuer = await DevTokenIssuer.start({
    port: Number(process.env.PORT ?? 0),
    host: process.env.HOST ?? '127.0.0.1',
    ...(keysFile ? { keysFile } : {}),
  });
} catch (err) {
  if (!(err instanceof KeyFileError)) throw err;
  log(50, `TOKEN_ISSUER_KEYS_FILE: ${err.message}`);
  process.exit(1);
}
log(30, 'token issuer listening', {
  url: issuer.url,
  keysFile: keysFile ?? null,
  signing: issuer.status().signing,
});
const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
