/**
 * The `floor` variant of `npm run bench:saga`: one bare `node:http` process that stands in for both
 * inventory and payment and answers every participant call at once, with no database, no Redis, no
 * framework and no tracing. The order service runs unchanged against it, so the variant measures the
 * most the saga could reach with participants that cost nothing but their HTTP exchange.
 * Started as its own process: `PORT=... node lib/bench/saga-null-participants.mjs`.
 */
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    // reserve answers what inventory answers; every other call only needs a 2xx
    const body =
      req.method === 'POST' && req.url === '/reservations'
        ? JSON.stringify({ status: 'RESERVED', expiresAt: new Date(Date.now() + 900_000).toISOString() })
        : req.url === '/healthz'
          ? '{"status":"ok"}'
          : '{}';
    res.writeHead(req.url === '/reservations' || req.url === '/payments' ? 201 : 200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
