import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * The ports {@link freePort} draws from: below the kernel's ephemeral range, which every
 * `listen(0)` and every outgoing socket (Postgres, Redis, HTTP clients of parallel tests) takes
 * ports from. A port handed out from that range can be taken by such a socket between the check
 * and the child's bind, and a CI run failed on exactly that (EADDRINUSE).
 */
function portRange(): readonly [number, number] {
  let ephemeralLow = 32768;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (low && Number(low) > 0) ephemeralLow = Number(low);
  } catch {
    // not Linux: keep the Linux default
  }
  const high = Math.max(ephemeralLow - 1, 2048);
  return [Math.min(15000, high - 1000), high];
}

/** Whether 127.0.0.1:`port` can be listened on now: nothing holds it. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/**
 * The first of `count` consecutive free ports on 127.0.0.1, picked at random below the kernel's
 * ephemeral range (see {@link portRange}): for fixed ports such as `aio dev --base-port`.
 *
 * @throws Error when 50 random blocks were all partly taken
 */
export async function freePortBlock(count: number): Promise<number> {
  const [low, high] = portRange();
  for (let i = 0; i < 50; i++) {
    const first = low + Math.floor(Math.random() * (high - low - count + 1));
    const ports = Array.from({ length: count }, (_, k) => first + k);
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return first;
  }
  throw new Error(`no ${count} consecutive free ports between ${low} and ${high} after 50 tries`);
}

/**
 * A free port on 127.0.0.1 for a process the test starts next, picked at random below the
 * kernel's ephemeral range (see {@link portRange}); falls back to one the OS chooses.
 */
export async function freePort(): Promise<number> {
  try {
    return await freePortBlock(1);
  } catch {
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
}

/** Options of {@link waitForHealthy}. */
export interface WaitForHealthyOptions {
  /**
   * Gives up after this long.
   *
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * The process that serves `baseUrl`: when it exits, the wait ends at once with an error.
   *
   * @default - none watched
   */
  readonly child?: ChildProcess;
  /**
   * Names the service in errors.
   *
   * @default baseUrl
   */
  readonly name?: string;
  /**
   * Appended to errors, e.g. `see /tmp/order.log`.
   *
   * @default - nothing
   */
  readonly hint?: string;
  /**
   * The path that answers 2xx once the process is ready.
   *
   * @default /healthz
   */
  readonly path?: string;
}

/**
 * Polls `GET baseUrl/healthz` (or `path`) every 50 ms until it answers 2xx.
 *
 * @throws Error when `child` exits first, or after `timeoutMs`, naming the service
 */
export async function waitForHealthy(baseUrl: string, options: WaitForHealthyOptions = {}): Promise<void> {
  const name = options.name ?? baseUrl;
  const hint = options.hint ? `; ${options.hint}` : '';
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const child = options.child;
  const path = options.path ?? '/healthz';
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const how = child.signalCode ?? `code ${child.exitCode}`;
      throw new Error(`${name} exited before ${path} answered (${how})${hint}`);
    }
    try {
      if ((await fetch(`${baseUrl}${path}`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${path} in time${hint}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
