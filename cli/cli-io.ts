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
}

/** The process's own stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  cwd: process.cwd(),
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
};

/** Collects output in memory (tests). */
export function memoryIo(cwd: string = process.cwd()): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void stdout.push(t.replace(/\n$/, '')),
    err: (t) => void stderr.push(t.replace(/\n$/, '')),
    cwd,
    interactive: false,
  };
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
