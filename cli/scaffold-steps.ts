import type { CliIo } from './cli-io.js';

/** The side effects of `aio new service` (npm install, git): run quietly, shown in full when they fail. */

/** A side-effect step that failed; the command rolls back and reports it. */
export class StepFailed extends Error {
  constructor(
    message: string,
    /** What to do about it. */
    public readonly hint: string,
  ) {
    super(message);
  }
}

/** Runs one side-effect step. On failure it prints the command's own output, then throws. */
export async function step(
  io: CliIo,
  label: string,
  cwd: string,
  [cmd, args]: [string, string[]],
  signal: AbortSignal,
): Promise<void> {
  io.err(`… ${label}`);
  let result = await spawnQuietly(cmd, args, cwd, signal);
  if (result.code !== 0 && cmd === 'git' && /tell me who you are|identity unknown/i.test(result.output)) {
    // No git identity (CI, fresh machines): commit as aio rather than fail the scaffold.
    result = await spawnQuietly(
      cmd,
      ['-c', 'user.name=aio', '-c', 'user.email=aio@localhost', ...args],
      cwd,
      signal,
    );
  }
  if (signal.aborted) throw new StepFailed(`step '${label}' was interrupted`, 'run the command again');
  if (result.code === 0) {
    io.err(`✔ ${label}`);
    return;
  }
  if (result.code === 'ENOENT') {
    throw new StepFailed(`step '${label}' failed: '${cmd}' is not installed`, `install ${cmd} and run again`);
  }
  // npm's own explanation (E404, ERESOLVE, auth) is the useful part: show it, not one line of it.
  const lines = result.output.trimEnd().split('\n');
  io.err(`✖ ${label} (exit ${result.code}); its output${lines.length > 60 ? ', last 60 lines' : ''}:`);
  for (const line of lines.slice(-60)) io.err(`  ${line}`);
  const hint =
    cmd === 'npm' && /E404|ENOTFOUND|E401|E403|ETIMEDOUT|ECONNREFUSED|EAI_AGAIN/.test(result.output)
      ? '@aio/* comes from the registry in .npmrc: log in to it (aws codeartifact login --tool npm ...), ' +
        'pass --registry <url>, or try it with --local (packs this platform checkout)'
      : 'fix the problem shown above and run the same aio new service command again';
  throw new StepFailed(`step '${label}' failed (exit ${result.code})`, hint);
}

/** Runs a command with stdin closed, collecting stdout and stderr; `code` is 'ENOENT' when it is missing. */
export async function spawnQuietly(
  cmd: string,
  args: readonly string[],
  cwd: string,
  signal?: AbortSignal,
): Promise<{ code: number | string; output: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err: NodeJS.ErrnoException) =>
      done({ code: err.code ?? err.message, output: Buffer.concat(chunks).toString('utf8') }),
    );
    child.on('close', (code) => done({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}
