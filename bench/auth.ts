/**
 * `npm run bench:auth`: what the kit's customer token check costs, with a warm JWKS cache.
 *
 * 1. The full check: BENCH_VERIFY (5000) sequential `TokenVerifier.verify` calls of one RS256 token
 *    from the development issuer with the verified-token memory off (`verifiedCacheSize: 0`), timed
 *    in process CPU (user + system, `process.cpuUsage`, so another process on the machine does not
 *    count). This is what the first request of a token costs, and each one after the memory's 60 s.
 *    The JWKS is fetched once before timing (`warm()`); no request reaches the issuer while timing
 *    (checked).
 * 2. A remembered token: the same with the memory on (the default), what every further request of
 *    a customer's token costs.
 * 3. Through a route: BENCH_REQUESTS (5000) `inject`ed GETs of a kit server's customer route with
 *    the token (memory on, then off), against the same handler declared `auth: 'public'`,
 *    interleaved in rounds, in CPU per request; the difference is what the check adds to a request.
 *
 * Target (issue 15): at most 0.1 ms of CPU per request.
 */
import { loadavg } from 'node:os';
import { createLogger, createServer, TokenVerifier } from '@aio/kit';
import { DEV_TOKEN_AUDIENCE, DevTokenIssuer } from '@aio/kit/testing';

const VERIFY = Number(process.env.BENCH_VERIFY ?? 5000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const ROUNDS = 5;
const TARGET_MS = 0.1;

/** CPU milliseconds (user + system) that `fn` takes. */
async function cpuMs(fn: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(4)} ms`;

const issuer = await DevTokenIssuer.start();
try {
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${new Date().toISOString()}, node ${process.version}`,
  );
  const verifierWith = (verifiedCacheSize: number) =>
    new TokenVerifier({
      issuer: issuer.url,
      audience: DEV_TOKEN_AUDIENCE,
      jwksUri: issuer.jwksUri,
      verifiedCacheSize,
    });
  const full = verifierWith(0);
  const remembered = verifierWith(10_000);
  for (const v of [full, remembered]) {
    const warmed = await v.warm();
    if (warmed) throw warmed;
  }
  const token = await issuer.issue({ customer: 'bench-alice' });
  const fetchesBefore = issuer.jwksRequests;

  /** Median CPU ms per call of `fn`, over ROUNDS rounds of `n / ROUNDS` calls, after a warm-up. */
  const perCall = async (n: number, fn: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 200; i++) await fn();
    const rounds: number[] = [];
    const per = Math.max(1, Math.floor(n / ROUNDS));
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push(
        (await cpuMs(async () => {
          for (let i = 0; i < per; i++) await fn();
        })) / per,
      );
    }
    return median(rounds);
  };

  // 1-2. the verifier alone
  const fullMs = await perCall(VERIFY, () => full.verify(token));
  const rememberedMs = await perCall(VERIFY, () => remembered.verify(token));

  // 3. through kit servers: the same handler as a customer route and as a public one
  const serverWith = async (auth: TokenVerifier) => {
    const server = createServer({
      logger: createLogger({ name: 'bench-auth', level: 'silent' }),
      name: 'bench-auth',
      auth,
    });
    const handler = async () => ({ ok: true });
    server.get('/customer', { config: { public: true, auth: 'customer' } }, handler);
    server.get('/open', { config: { public: true, auth: 'public' } }, handler);
    await server.ready();
    // the check refuses what it must, so the customer figure is of a route that really checks
    const refused = await server.inject({ method: 'GET', url: '/customer' });
    if (refused.statusCode !== 401) throw new Error(`no token: expected 401, got ${refused.statusCode}`);
    return server;
  };
  const bearer = { authorization: `Bearer ${token}` };
  const route = async (
    server: Awaited<ReturnType<typeof serverWith>>,
    url: string,
    headers: Record<string, string>,
  ) => {
    const res = await server.inject({ method: 'GET', url, headers });
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`);
  };
  const rows: { name: string; customer: number; open: number }[] = [];
  for (const [name, verifier] of [
    ['remembered token', remembered],
    ['full check', full],
  ] as const) {
    const server = await serverWith(verifier);
    const customer = await perCall(REQUESTS, () => route(server, '/customer', bearer));
    const open = await perCall(REQUESTS, () => route(server, '/open', {}));
    rows.push({ name, customer, open });
    await server.close();
  }
  const fetches = issuer.jwksRequests - fetchesBefore;

  console.log(
    `RS256 token, warm JWKS (issuer fetched ${fetches} times while timing), median of ${ROUNDS} rounds`,
  );
  console.log(`  verifier, full check:       ${fmt(fullMs)} CPU per token (a token's first request)`);
  console.log(`  verifier, remembered token: ${fmt(rememberedMs)} CPU per token (every further request)`);
  for (const r of rows) {
    console.log(
      `  route, ${r.name.padEnd(17)} customer ${fmt(r.customer)}, public ${fmt(r.open)}: the check adds ${fmt(r.customer - r.open)} CPU per request`,
    );
  }
  const added = rows[0]!.customer - rows[0]!.open;
  console.log(
    `  verdict: a remembered token adds ${fmt(added)} per request: ${added <= TARGET_MS ? 'within' : 'OVER'} the ${TARGET_MS} ms target (ratio ${(added / TARGET_MS).toFixed(2)}); the full check is ${(fullMs / TARGET_MS).toFixed(2)}× the target, once per token per 60 s`,
  );
  if (fetches !== 0) throw new Error('the JWKS was fetched while timing: the cache was not warm');
} finally {
  await issuer.close();
}
