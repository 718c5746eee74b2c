import { DevTokenIssuer } from '@aio/kit/testing';

/**
 * The `token-issuer` process of the local stack: a {@link DevTokenIssuer} on `PORT`, stopped by
 * SIGTERM or SIGINT. Its keys live only in this process: a restart invalidates every token.
 */
const issuer = await DevTokenIssuer.start({
  port: Number(process.env.PORT ?? 0),
  host: process.env.HOST ?? '127.0.0.1',
});
process.stdout.write(`${JSON.stringify({ level: 30, msg: 'token issuer listening', url: issuer.url })}\n`);
const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
