import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where the stack's processes write their stdout and stderr: one file per process (tests, benchmarks:
 * appended across restarts, named in startup errors), or line by line to a callback (`aio dev`).
 */
export abstract class StackLogs {
  /** `<dir>/<process>.log`, appended across restarts. */
  public static toDirectory(dir: string): StackLogs {
    return new DirectoryLogs(dir);
  }

  /** Each complete line, with the process that wrote it. */
  public static toLines(write: (process: string, line: string) => void): StackLogs {
    return new LineLogs(write);
  }

  /** The directory of the log files, when they go to files. */
  public abstract readonly directory: string | undefined;

  /** Connects a newly spawned process. */
  public abstract attach(process: string, child: ChildProcess): void;

  /** Where to look when the process failed, e.g. `see /tmp/aio-e2e-x/order.log`. */
  public abstract hint(process: string): string | undefined;
}

class DirectoryLogs extends StackLogs {
  constructor(public readonly directory: string) {
    super();
  }

  public attach(process: string, child: ChildProcess): void {
    const file = createWriteStream(join(this.directory, `${process}.log`), { flags: 'a' });
    let open = 2;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) {
        open--;
        continue;
      }
      stream.pipe(file, { end: false });
      stream.once('end', () => --open === 0 && file.end());
    }
  }

  public hint(process: string): string {
    return `see ${join(this.directory, `${process}.log`)}`;
  }
}

class LineLogs extends StackLogs {
  public readonly directory = undefined;

  constructor(private readonly write: (process: string, line: string) => void) {
    super();
  }

  public attach(process: string, child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) if (stream) this.split(process, stream);
  }

  public hint(): undefined {
    return undefined; // the lines were printed already
  }

  private split(process: string, stream: Readable): void {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.write(process, line);
    });
    stream.once('end', () => partial && this.write(process, partial));
  }
}

/** How `aio dev` shows the services' pino lines. */
export type LogFormat = 'pretty' | 'json';

/**
 * Formats one line a process wrote: `pretty` renders pino JSON through pino-pretty behind the process
 * name; `json` passes JSON lines through untouched (each carries `service`), so the output stays
 * machine-readable. A line that is not JSON (a config error, a crash) is prefixed with the process
 * name either way.
 *
 * @see https://github.com/pinojs/pino-pretty#api
 */
export async function logLineFormatter(
  format: LogFormat,
  colorize: boolean,
): Promise<(process: string, line: string) => string> {
  const width = 12;
  const plain = (process: string, line: string) => `${`[${process}]`.padEnd(width)} ${line}`;
  if (format === 'json') return (process, line) => (line.startsWith('{') ? line : plain(process, line));
  const { prettyFactory } = (await import('pino-pretty')).default;
  const pretty = prettyFactory({
    colorize,
    ignore: 'pid,hostname,service',
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return (process, line) => {
    if (!line.startsWith('{')) return plain(process, line);
    return plain(process, String(pretty(line)).replace(/\n$/, ''));
  };
}
