import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { dirname } from 'node:path';
import { loadPlatform } from '../model/load-platform.js';
import type { ShadowRoute } from '../model/platform-model.js';
import { diffJson, type FieldMismatch, type ShadowRecord } from './shadow-diff.js';

/** Header naming the comparer's request to the backends, so their logs can tell shadow reads apart. */
export const SHADOW_HEADER = 'x-aio-shadow';

/** Where the comparer learns the shadowed routes; each file is re-read when its mtime changes. */
export type ShadowRouteSource =
  /** platform.yaml, under `aio dev`: `aio route --shadow` takes effect without a restart. */
  | { readonly platformFile: string }
  /**
   * A JSON array of {@link ShadowRoute}s: in the cluster, the ConfigMap `charts/shadow-comparer.ts`
   * synthesizes (a mounted ConfigMap is updated in place, so this is re-read too).
   */
  | { readonly routesFile: string };

/** Options of {@link serveShadowComparer}. */
export type ShadowComparerOptions = ShadowRouteSource & {
  /** Port (0: any). */
  readonly port: number;
  /**
   * Address to listen on. In a pod it must be `0.0.0.0`: Istio's sidecar forwards inbound traffic
   * to the pod IP, not to localhost (https://istio.io/latest/blog/2021/upcoming-networking-changes/).
   *
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /** `MONOLITH_URL` and `<SERVICE>_URL` of the backends. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * JSONL file the comparisons are appended to, or `-` for standard output (in the cluster: one
   * record per log line, read back with `kubectl logs ... | aio shadow report --log -`).
   */
  readonly logFile: string;
};

/** Reads `source` now and again whenever its file changes. */
export function shadowRoutes(source: ShadowRouteSource): () => readonly ShadowRoute[] {
  const file = 'platformFile' in source ? source.platformFile : source.routesFile;
  let cached: { mtime: number; routes: readonly ShadowRoute[] } | undefined;
  return () => {
    const mtime = statSync(file).mtimeMs;
    if (cached?.mtime !== mtime) {
      cached = { mtime, routes: 'platformFile' in source ? platformRoutes(file) : routesFromJson(file) };
    }
    return cached.routes;
  };
}

function platformRoutes(file: string): readonly ShadowRoute[] {
  return loadPlatform(file).routes();
}

function routesFromJson(file: string): readonly ShadowRoute[] {
  const routes: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const ok = (r: unknown): r is ShadowRoute => {
    const x = r as Partial<Record<keyof ShadowRoute, unknown>>;
    return (
      typeof r === 'object' &&
      r !== null &&
      typeof x.service === 'string' &&
      typeof x.path === 'string' &&
      typeof x.servicePath === 'string' &&
      typeof x.shadow === 'number' &&
      Array.isArray(x.shadowIgnore) &&
      x.shadowIgnore.every((f) => typeof f === 'string')
    );
  };
  if (!Array.isArray(routes) || !routes.every(ok)) {
    throw new Error(
      `${file}: must be a JSON array of { service, path, servicePath, shadow, shadowIgnore }, got ${JSON.stringify(routes).slice(0, 120)}`,
    );
  }
  return routes;
}

/** `order` → `ORDER_URL`, as the launcher passes a callee's base URL. */
const urlVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

/** The shadowed route a request path falls under: the longest prefix, whole segments. */
export function shadowRouteFor<R extends ShadowRoute>(routes: readonly R[], path: string): R | undefined {
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
  const routes = shadowRoutes(options);
  routes(); // a missing or malformed routes file fails the start, not the first mirrored request
  const toStdout = options.logFile === '-';
  if (!toStdout) mkdirSync(dirname(options.logFile), { recursive: true });
  const write = (line: string) =>
    toStdout ? process.stdout.write(line) : appendFileSync(options.logFile, line);

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz' || req.url === '/readyz') {
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
      write(`${JSON.stringify(record)}\n`);
      res.writeHead(204).end();
    })().catch((err: Error) => {
      process.stderr.write(`shadow-compare: ${req.url}: ${err.message}\n`);
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port, host);
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
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
