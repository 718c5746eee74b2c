import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** Asks the OS for a free port on 127.0.0.1, for a process the test starts next. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
