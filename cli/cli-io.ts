/**
 * Where a command prints, so tests can run commands in-process and read what they said.
 */
export interface CliIo {
  /** Results: tables, JSON. */
  out(text: string): void;
  /** Progress lines, warnings and errors. */
  err(text: string): void;
  /** The directory relative paths are resolved from. */
  readonly cwd: string;
  /** True when a person is at the terminal (prompts are allowed). */
  readonly interactive: boolean;
  /**
   * The environment the command reads (`GITHUB_ACTIONS`).
   *
   * @default - process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The process's own stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  cwd: process.cwd(),
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  env: process.env,
};

/** Collects output in memory (tests). */
export function memoryIo(
  cwd: string = process.cwd(),
  env: Readonly<Record<string, string | undefined>> = {},
): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void stdout.push(t.replace(/\n$/, '')),
    err: (t) => void stderr.push(t.replace(/\n$/, '')),
    cwd,
    interactive: false,
    env,
  };
}

/** True when running as a GitHub Actions step: errors are also printed as workflow annotations. */
export function inGitHubActions(io: CliIo): boolean {
  return (io.env ?? process.env).GITHUB_ACTIONS === 'true';
}

/** Where an annotation points. */
export interface AnnotationLocation {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly title?: string;
}

/**
 * A GitHub Actions workflow command (`::error file=…,line=…,col=…::message`), escaped as the
 * runner parses it: `%`, CR and LF in the message; those and `:` and `,` in property values.
 *
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message
 * @see https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
 */
export function annotation(
  level: 'error' | 'warning' | 'notice',
  message: string,
  at: AnnotationLocation = {},
): string {
  const data = (v: string) => v.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const property = (v: string) => data(v).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const props = (['file', 'line', 'col', 'title'] as const)
    .filter((k) => at[k] !== undefined && at[k] !== '')
    .map((k) => `${k}=${property(String(at[k]))}`)
    .join(',');
  return `::${level}${props ? ` ${props}` : ''}::${data(message)}`;
}

/** Renders rows as a left-aligned text table with a header. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
