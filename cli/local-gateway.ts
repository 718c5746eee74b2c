import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../charts/apply-order.js';
import {
  CONFIG_HEADER,
  configHash,
  GATEWAY_HEALTH_PATH,
  renderNginxConfig,
} from '../charts/nginx-gateway.js';
import { startEdgeTokenVerifier, type EdgeIdentity, type EdgeTokenVerifier } from './edge-token-verifier.js';

/** Options of {@link startLocalGateway}. */
export interface LocalGatewayOptions {
  /** The synthesized gateway objects (HTTPRoutes, KongPlugins, the cohort plugin). */
  readonly objects: readonly KubeObject[];
  /** Local `host:port` of each backend, by `namespace/name` of its backendRef. */
  readonly upstreams: Readonly<Record<string, string>>;
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** nginx binary. @default 'nginx' (Debian's, at /usr/sbin/nginx) */
  readonly nginx?: string;
  /** Working directory (config, pid, logs, temp files). @default - a new temp directory, removed on stop */
  readonly dir?: string;
  /**
   * The issuer whose tokens customer routes accept (the stack's `AUTH_*`). The gateway then runs
   * its token verifier beside nginx.
   *
   * @default - none: every request to a customer route answers 401
   */
  readonly identity?: EdgeIdentity;
}

/** A running local gateway. */
export interface LocalGateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Its working directory (`nginx.conf`, `error.log`). */
  readonly dir: string;
  /** Applies new objects without a restart: renders, tests (`nginx -t`), reloads, and waits until it serves them. */
  reload(objects: readonly KubeObject[]): Promise<void>;
  /** Stops nginx (SIGTERM: nginx's fast shutdown), then removes a temp directory it made. */
  stop(): Promise<void>;
}

/** The nginx binary: `$AIO_NGINX`, else Debian's `/usr/sbin/nginx` (not on a non-root PATH), else `nginx`. */
export function nginxBinary(): string {
  if (process.env.AIO_NGINX) return process.env.AIO_NGINX;
  return spawnSync('/usr/sbin/nginx', ['-v']).status === 0 ? '/usr/sbin/nginx' : 'nginx';
}

/**
 * Starts nginx in the foreground (`daemon off`) with a config rendered from the gateway objects, in
 * its own prefix directory, so it needs no root, no /etc/nginx and no port 80.
 *
 * @throws Error naming the nginx error when the config does not load or nginx is missing
 */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const bin = options.nginx ?? nginxBinary();
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'aio-gateway-'));
  // workers run as nobody when nginx starts as root: they must write the temp dirs
  chmodSync(dir, 0o755);
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, t), { recursive: true });
    chmodSync(join(dir, t), 0o777);
  }
  const confFile = join(dir, 'nginx.conf');
  const url = `http://127.0.0.1:${options.port}`;
  const verifier: EdgeTokenVerifier | undefined = options.identity
    ? await startEdgeTokenVerifier(options.identity)
    : undefined;
  const render = (objects: readonly KubeObject[]) => {
    const text = renderNginxConfig({
      objects,
      upstreams: options.upstreams,
      port: options.port,
      dir,
      tokenVerifier: verifier?.address,
    });
    writeFileSync(confFile, text);
    const test = spawnSync(bin, nginxArgs(dir, confFile, '-t'), { encoding: 'utf8' });
    if (test.error)
      throw new Error(`cannot run ${bin}: ${test.error.message}; install nginx (apt-get install -y nginx)`);
    if (test.status !== 0) throw new Error(`nginx rejected ${confFile}: ${test.stderr.trim()}`);
    return configHash(text);
  };
  let hash: string;
  try {
    hash = render(options.objects);
  } catch (err) {
    await verifier?.close();
    throw err;
  }
  const child: ChildProcess = spawn(bin, nginxArgs(dir, confFile), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // nginx is its own process: never leave it running when this one ends, however it ends
  const orphanGuard = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  const served = async () => {
    for (let i = 0; i < 400; i++) {
      if (child.exitCode !== null) {
        throw new Error(`nginx exited (${child.exitCode}): ${stderr.trim() || errorLog(dir)}`);
      }
      try {
        const res = await fetch(`${url}${GATEWAY_HEALTH_PATH}`, { headers: { connection: 'close' } });
        await res.arrayBuffer();
        if (res.ok && res.headers.get(CONFIG_HEADER) === hash) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nginx on ${url} did not serve config ${hash} in time: ${errorLog(dir)}`);
  };
  await served();
  return {
    url,
    dir,
    async reload(objects) {
      hash = render(objects);
      child.kill('SIGHUP');
      await served();
      // until the old workers are gone, a kept-alive connection could still be answered by the old config
      await workersSettled(child.pid!);
    },
    async stop() {
      if (child.exitCode === null) {
        const exit = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(timer);
      }
      await verifier?.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the master has one worker again (Linux /proc; elsewhere it returns at once). */
async function workersSettled(pid: number): Promise<void> {
  const file = `/proc/${pid}/task/${pid}/children`;
  for (let i = 0; i < 400; i++) {
    let children: string[];
    try {
      children = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return;
    }
    if (children.length <= 1) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function nginxArgs(dir: string, conf: string, ...extra: string[]): string[] {
  // -e: the error log before the config is read, so nginx never opens /var/log/nginx
  return ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;', ...extra];
}

function errorLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return 'no error log';
  }
}
