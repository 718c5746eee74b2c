import http from 'node:http';
import type { Socket } from 'node:net';

/**
 * A fault a {@link FaultProxy} injects, the local twin of what `aio chaos` synthesizes for a cluster
 * (an Istio VirtualService `fault`):
 * - `abort`: `percent` % of requests are answered `status` (default 503) without reaching the service;
 * - `delay`: `percent` % (default 100) of requests wait `ms` before they are forwarded;
 * - `blackhole`: every request is accepted and never answered (the connection stays open until the
 *   fault is cleared, then it is closed); callers see their own timeouts fire.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPFaultInjection
 */
export type Fault =
  | { readonly kind: 'abort'; readonly percent: number; readonly status?: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly percent?: number }
  | { readonly kind: 'blackhole' };

/** Path of the proxy's control endpoint: `GET` (the fault, or `null`), `PUT` (a {@link Fault}), `DELETE`. */
export const FAULT_CONTROL_PATH = '/.aio/fault';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Base URL of the service behind the proxy, e.g. `http://127.0.0.1:8085`. */
  readonly target: string;
  /** Port to listen on (0: any). */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

/**
 * An HTTP proxy in front of one service of the local stack, which injects one {@link Fault} at a
 * time (none at first: it then forwards every request unchanged). Callers get its URL as the
 * service's `<NAME>_URL` (`startStack({ faults: ['review'] })`), so the service itself runs
 * unchanged, and killing or restarting it behind the proxy still looks like a dead service: a
 * request the service cannot take has its connection reset.
 */
export class FaultProxy {
  /** Starts the proxy; resolves once it listens. */
  public static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options.target);
    proxy.server.listen(options.port, options.host ?? '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('listening', resolve);
      proxy.server.once('error', reject);
    });
    const port = (proxy.server.address() as { port: number }).port;
    proxy.url = `http://${options.host ?? '127.0.0.1'}:${port}`;
    return proxy;
  }

  /** The proxy's base URL: what callers use instead of the service's. */
  public url = '';
  private current: Fault | undefined;
  private readonly held = new Set<Socket>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  private constructor(private readonly target: string) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** The fault injected now, if any. */
  public get fault(): Fault | undefined {
    return this.current;
  }

  /** Injects `fault` from the next request on; `undefined` clears it (and closes blackholed connections). */
  public set(fault: Fault | undefined): void {
    if (fault) checkFault(fault);
    this.current = fault;
    if (fault?.kind !== 'blackhole') {
      for (const socket of this.held) socket.destroy();
      this.held.clear();
    }
  }

  /** Stops listening and closes every connection. */
  public async close(): Promise<void> {
    for (const socket of this.held) socket.destroy();
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.url === FAULT_CONTROL_PATH) {
      this.control(req, res);
      return;
    }
    const fault = this.current;
    const hit = (percent: number) => Math.random() * 100 < percent;
    if (fault?.kind === 'blackhole') {
      this.held.add(req.socket);
      req.socket.once('close', () => this.held.delete(req.socket));
      return;
    }
    if (fault?.kind === 'abort' && hit(fault.percent)) {
      req.resume();
      const status = fault.status ?? 503;
      res
        .writeHead(status, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'about:blank', title: 'fault injected', status }));
      return;
    }
    if (fault?.kind === 'delay' && hit(fault.percent ?? 100)) {
      setTimeout(() => this.forward(req, res), fault.ms);
      return;
    }
    this.forward(req, res);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.socket.destroyed) return;
    const upstream = http.request(
      new URL(req.url ?? '/', this.target),
      { method: req.method, headers: req.headers, agent: this.agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // the service is down or dropped the connection: so does the proxy, as a dead service would
    upstream.once('error', () => req.socket.destroy());
    req.pipe(upstream);
  }

  private control(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, body?: unknown) =>
      body === undefined
        ? res.writeHead(status).end()
        : res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET') return void reply(200, this.current ?? null);
    if (req.method === 'DELETE') {
      this.set(undefined);
      return void reply(204);
    }
    if (req.method !== 'PUT') return void reply(405, { title: 'use GET, PUT or DELETE' });
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      try {
        this.set(JSON.parse(text) as Fault);
        reply(204);
      } catch (err) {
        reply(400, {
          type: 'about:blank',
          title: 'invalid fault',
          status: 400,
          detail: (err as Error).message,
        });
      }
    });
  }
}

/** Throws on a fault the proxy cannot inject, naming the field and the value received. */
export function checkFault(fault: Fault): void {
  const f = fault as unknown as Record<string, unknown>;
  const percent = (v: unknown, name: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
      throw new Error(`${name}: must be a number from 0 to 100, got ${JSON.stringify(v)}`);
    }
  };
  switch (f.kind) {
    case 'abort':
      percent(f.percent, 'percent');
      if (
        f.status !== undefined &&
        (!Number.isInteger(f.status) || (f.status as number) < 200 || (f.status as number) > 599)
      ) {
        throw new Error(`status: must be an HTTP status from 200 to 599, got ${JSON.stringify(f.status)}`);
      }
      return;
    case 'delay':
      if (!Number.isInteger(f.ms) || (f.ms as number) < 0) {
        throw new Error(`ms: must be a whole number of milliseconds, got ${JSON.stringify(f.ms)}`);
      }
      if (f.percent !== undefined) percent(f.percent, 'percent');
      return;
    case 'blackhole':
      return;
    default:
      throw new Error(`kind: must be 'abort', 'delay' or 'blackhole', got ${JSON.stringify(f.kind)}`);
  }
}
