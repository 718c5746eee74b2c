import { waitForHealthy } from '@aio/kit/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { ProcessEntry } from './process-entry.js';
import { StackError } from './stack-error.js';
import type { StackLogs } from './stack-logs.js';

/** Props of {@link ManagedProcess}. */
export interface ManagedProcessProps {
  /** Instance name: the entry's name, or `<name>-<i>` for replicas. */
  readonly name: string;
  readonly entry: ProcessEntry;
  readonly port: number;
  /** argv, file first. */
  readonly argv: readonly string[];
  /** The full environment (PORT and HOST included). */
  readonly env: Readonly<Record<string, string>>;
  readonly logs: StackLogs;
  /** @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Called when the process exits without {@link ManagedProcess.stop} or {@link ManagedProcess.kill9}. */
  readonly onUnexpectedExit?: (process: ManagedProcess, how: string) => void;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One process of a stack, on a fixed port, that can be stopped, killed (`kill -9`) and started again
 * on the same port with the same environment, as the fault and chaos tests do.
 */
export class ManagedProcess {
  public readonly name: string;
  public readonly entry: ProcessEntry;
  public readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  public readonly url: string;
  /** The environment it starts with. */
  public readonly env: Readonly<Record<string, string>>;
  /** How many times it has exited, for whatever reason. */
  public exits = 0;
  private child: ChildProcess | undefined;
  private expected = false;
  private starting = false;

  constructor(private readonly props: ManagedProcessProps) {
    this.name = props.name;
    this.entry = props.entry;
    this.port = props.port;
    this.url = `http://127.0.0.1:${props.port}`;
    this.env = props.env;
  }

  /** Process id while it runs. */
  public get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** True while the process runs. */
  public get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and waits until its ready path answers 2xx.
   *
   * @param extraEnv added for this start only (e.g. a fault-injection hook)
   * @throws StackError when it exits first or is not ready in time, naming its log
   */
  public async start(extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const [file, ...args] = this.props.argv;
    const child = spawn(file!, args, {
      env: { ...this.env, ...extraEnv, PORT: this.env.PORT!, HOST: this.env.HOST! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.expected = false;
    this.child = child;
    this.props.logs.attach(this.name, child);
    child.once('exit', (code, signal) => {
      this.exits++;
      // an exit during start() is reported by start() itself
      if (!this.expected && !this.starting) this.props.onUnexpectedExit?.(this, signal ?? `code ${code}`);
    });
    this.starting = true;
    try {
      await waitForHealthy(this.url, {
        child,
        name: this.name,
        path: this.entry.readyPath ?? '/healthz',
        timeoutMs: this.props.readyTimeoutMs ?? 60_000,
        ...(this.props.logs.hint(this.name) ? { hint: this.props.logs.hint(this.name) } : {}),
      });
    } catch (err) {
      await this.kill9();
      throw new StackError((err as Error).message);
    } finally {
      this.starting = false;
    }
  }

  /** Resolves when the process has exited (e.g. after a fault-injection hook killed it). */
  public async exited(): Promise<ProcessExit> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (this.running) await once(child, 'exit');
    return { code: child.exitCode, signal: child.signalCode };
  }

  /** `kill -9`, and waits for the exit. */
  public async kill9(): Promise<void> {
    if (!this.running) return;
    this.expected = true;
    const exit = this.exited();
    this.child!.kill('SIGKILL');
    await exit;
  }

  /**
   * Graceful stop: SIGTERM, then SIGKILL after `timeoutMs`.
   *
   * @returns how it ended (a clean shutdown is code 0)
   */
  public async stop(timeoutMs = 10_000): Promise<ProcessExit> {
    if (!this.running) return this.exited();
    this.expected = true;
    const exit = this.exited();
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      return await exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops (gracefully) and starts again on the same port. */
  public async restart(extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
    await this.stop();
    await this.start(extraEnv);
  }
}
