import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a running `aio dev` tells other commands (`aio chaos --local`): its pid and fault proxies. */
export interface DevState {
  readonly pid: number;
  /** By process name: the base URL of the fault proxy in front of it (`aio dev --faults`). */
  readonly faults: Readonly<Record<string, string>>;
}

/**
 * Where `aio dev` keeps its state: `$AIO_DEV_STATE_DIR`, by default `aio-dev` under the OS temporary
 * directory. Its state files, and the stack's (the token issuer's keys), are kept across runs.
 */
export function devStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.AIO_DEV_STATE_DIR ?? join(tmpdir(), 'aio-dev');
}

/**
 * The state file of the `aio dev` on `basePort`: `<devStateDir>/<port>.json`, one per base port so
 * two stacks on one machine do not mix.
 */
export function devStateFile(
  basePort: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return join(devStateDir(env), `${basePort}.json`);
}

/** Writes the state of a stack that is up. */
export async function writeDevState(basePort: string, state: DevState): Promise<string> {
  const file = devStateFile(basePort);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, JSON.stringify(state));
  return file;
}

/** Removes it when the stack stops. */
export async function removeDevState(basePort: string): Promise<void> {
  await rm(devStateFile(basePort), { force: true });
}

/**
 * Reads the state of the `aio dev` on `basePort`.
 *
 * @throws ValidationError when none is running there (no file, or its process is gone)
 */
export async function readDevState(
  basePort: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DevState> {
  const { ValidationError } = await import('../model/validation-error.js');
  const file = devStateFile(basePort, env);
  const hint = `start it with aio dev --faults <service> (or pass the --base-port it runs on)`;
  let state: DevState;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as DevState;
  } catch {
    throw new ValidationError(`no aio dev is running on base port ${basePort} (${file} is missing); ${hint}`);
  }
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new ValidationError(`the aio dev on base port ${basePort} (pid ${state.pid}) is gone; ${hint}`);
  }
  return state;
}
