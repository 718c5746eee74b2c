import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { freePort } from './processes.js';

/** A redis-server of the test's own, which it may kill and restart (never the shared one). */
export interface OwnRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** `kill -9`: everything in memory is gone (no persistence). */
  kill9(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /**
   * `SIGSTOP`: a blackholed Redis, whose socket accepts connections and commands but never answers.
   * `resume()` (`SIGCONT`) lets it answer again; `stop()` and `kill9()` still end it.
   */
  pause(): void;
  /** `SIGCONT` after {@link pause}. */
  resume(): void;
  /** Kills it for good. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port <free port> --save "" --appendonly no`: no persistence, so a restart
 * comes back empty, like a cache node that was replaced. For tests of Redis loss.
 */
export async function startOwnRedisServer(): Promise<OwnRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(port, child);
  };
  const kill9 = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exit = once(child, 'exit');
    child.kill('SIGKILL');
    await exit;
  };
  const signal = (name: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill9,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: kill9,
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.end() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not listen within 10 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
