import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { dirname } from 'node:path';
import { loadPlatform } from '../model/load-platform.js';
import type { RouteModel } from '../model/platform-model.js';
import { diffJson, type FieldMismatch, type ShadowRecord } from './shadow-diff.js';

/** Header naming the comparer's request to the backends, so their logs can tell shadow reads apart. */
export const SHADOW_HEADER = 'x-aio-shadow';

/** Options of {@link serveShadowComparer}. */
export interface ShadowComparerOptions {
  /** platform.yaml: the routes with `shadow`, their `servicePath` and `shadowIgnore` (re-read when it changes). */
  readonly platformFile: string;
  /** Port on 127.0.0.1 (0: any). */
  readonly port: number;
  /** `MONOLITH_URL` and `<SERVICE>_URL` of the backends. */
  readonly env: NodeJS.ProcessEnv;
  /** JSONL file the comparisons are appended to. */
  readonly logFile: string;
}

/** `order` → `ORDER_URL`, as the launcher passes a callee's base URL. */
const urlVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

/** The shadowed route a request path falls under: the longest prefix, whole segments. */
export function shadowRouteFor(routes: readonly RouteModel[], path: string): RouteModel | undefined {
  return routes
    .filter((r) => r.shadow > 0 && (path === r.path || path.startsWith(`${r.path}/`)))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/**
 * The shadow comparer: the small platform component a mirror sends GETs to (nginx's `mirror`
 * locally, Istio's VirtualService `mirror` in the cluster; both discard its answer). For each
 * mirrored request it asks the monolith and the service the same thing (the path rewritten to the
 * route's `servicePath` for the service, as the gateway does), compares status and JSON body field
 * by field without the route's `shadowIgnore` fields, and appends one {@link ShadowRecord} line to
 * `logFile`. It only ever reads: any method other than GET or HEAD is answered 405 and forwarded to
 * no one, so a mirror misconfigured to send a POST still creates nothing.
 */
export async function serveShadowComparer(
  options: ShadowComparerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  let cached: { mtime: number; routes: readonly RouteModel[] } | undefined;
  const routes = () => {
    const mtime = statSync(options.platformFile).mtimeMs;
    if (cached?.mtime !== mtime) cached = { mtime, routes: loadPlatform(options.platformFile).routes() };
    return cached.routes;
  };
  mkdirSync(dirname(options.logFile), { recursive: true });

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const uri = req.url ?? '/';
      const path = uri.split('?')[0]!;
      const route = shadowRouteFor(routes(), path);
      const monolith = options.env.MONOLITH_URL;
      const service = route && options.env[urlVariable(route.service)];
      if (!route || !monolith || !service) {
        res.writeHead(204).end();
        return;
      }
      const headers: Record<string, string> = { [SHADOW_HEADER]: '1' };
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      }
      const serviceUri = route.servicePath + uri.slice(route.path.length);
      const [a, b] = await Promise.all([
        answer(`${monolith}${uri}`, req.method, headers),
        answer(`${service}${serviceUri}`, req.method, headers),
      ]);
      const mismatches: FieldMismatch[] = [];
      if (a.status !== b.status)
        mismatches.push({ field: '(status)', monolith: a.status, service: b.status });
      else mismatches.push(...diffJson(a.body, b.body, route.shadowIgnore));
      const record: ShadowRecord = {
        at: new Date().toISOString(),
        service: route.service,
        route: route.path,
        method: req.method,
        uri,
        mismatches,
      };
      appendFileSync(options.logFile, `${JSON.stringify(record)}\n`);
      res.writeHead(204).end();
    })().catch((err: Error) => {
      process.stderr.write(`shadow-compare: ${req.url}: ${err.message}\n`);
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  server.listen(options.port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function answer(url: string, method: string, headers: Record<string, string>) {
  try {
    const res = await fetch(url, { method, headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: compared as text
    }
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}
