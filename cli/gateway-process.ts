import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { App, Chart } from 'cdk8s';
import type { KubeObject } from '../charts/apply-order.js';
import { GatewayChart } from '../charts/gateway-chart.js';
import { ShadowMirror } from '../charts/shadow-mirror.js';
import { loadPlatform } from '../model/load-platform.js';
import { naming } from '../model/naming.js';
import type { PlatformModel } from '../model/platform-model.js';
import { isUserError } from '../model/validation-error.js';
import { edgeIdentityFromEnv } from './edge-token-verifier.js';
import { startLocalGateway, type LocalGateway } from './local-gateway.js';

/** The gateway objects `aio synth` writes for `envName` (its 05-gateway stage), without writing them. */
export function gatewayObjects(model: PlatformModel, envName?: string): KubeObject[] {
  const env = envName ?? model.environments[0]!.name;
  const app = new App();
  const chart = new GatewayChart(app, 'gateway', GatewayChart.propsFromModel(model, env));
  const objects = chart.toJson() as KubeObject[];
  // the mesh's shadow mirror on the monolith's host: the local gateway applies it too
  const shadow = ShadowMirror.propsFromModel(model);
  if (shadow) {
    const mesh = new Chart(app, 'shadow');
    new ShadowMirror(mesh, 'mirror', shadow);
    objects.push(...(mesh.toJson() as KubeObject[]));
  }
  return objects;
}

/** `order` → `ORDER_URL`: how the launcher passes a callee's base URL. */
const urlVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

/**
 * The local upstreams of a platform from the environment: `MONOLITH_URL` for the monolith and
 * `<SERVICE>_URL` for each routed service that runs locally (one that does not answers 503 at the
 * gateway, naming it), and `SHADOW_COMPARE_URL` for the shadow comparer (without it nothing is mirrored).
 */
export function upstreamsFromEnv(model: PlatformModel, env: NodeJS.ProcessEnv): Record<string, string> {
  const hostPort = (url: string) => new URL(url).host;
  const upstreams: Record<string, string> = {};
  if (env.MONOLITH_URL)
    upstreams[`${naming.monolithNamespace}/${naming.monolithService}`] = hostPort(env.MONOLITH_URL);
  if (env.SHADOW_COMPARE_URL) {
    upstreams[`${naming.shadowComparerNamespace}/${naming.shadowComparerService}`] = hostPort(
      env.SHADOW_COMPARE_URL,
    );
  }
  for (const svc of model.routedServices) {
    const url = env[urlVariable(svc.name)];
    if (url) upstreams[`${naming.namespace(svc.name)}/${svc.name}`] = hostPort(url);
  }
  return upstreams;
}

/** Options of {@link serveLocalGateway}. */
export interface ServeLocalGatewayOptions {
  /** platform.yaml to render and watch. */
  readonly platformFile: string;
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** Where the backends run (see {@link upstreamsFromEnv}). */
  readonly env: NodeJS.ProcessEnv;
  /** Receives one line per reload or refused change. @default - stderr */
  readonly log?: (line: string) => void;
}

/**
 * The local gateway of `aio dev`: nginx rendered from platform.yaml's synthesized gateway objects,
 * re-rendered and reloaded in place whenever the file changes (so `aio route` takes effect without
 * a restart). A change that does not validate or fails the route gate is refused and logged; the
 * previous config keeps serving.
 */
export async function serveLocalGateway(
  options: ServeLocalGatewayOptions,
): Promise<LocalGateway & { close(): Promise<void> }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const model = loadPlatform(options.platformFile);
  const upstreams = upstreamsFromEnv(model, options.env);
  const identity = edgeIdentityFromEnv(options.env);
  if (!identity && model.routes().some((r) => r.auth === 'customer')) {
    log('gateway: no AUTH_ISSUER and AUTH_AUDIENCE: customer routes answer 401 until they are set');
  }
  const gateway = await startLocalGateway({
    objects: gatewayObjects(model),
    upstreams,
    port: options.port,
    // the issuer the services check too (AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI)
    identity,
  });
  let pending: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    pending = pending.then(async () => {
      try {
        await gateway.reload(gatewayObjects(loadPlatform(options.platformFile)));
        log(`gateway: reloaded ${options.platformFile}`);
      } catch (err) {
        const message = isUserError(err) ? err.message : (err as Error).message;
        log(`gateway: kept the previous routes; ${options.platformFile} was refused:\n${message}`);
      }
    });
  };
  // editors and `aio route` replace the file: watch its directory, debounce bursts
  const file = resolve(options.platformFile);
  const watcher = watch(dirname(file), (_event, name) => {
    if (name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  return {
    ...gateway,
    async close() {
      watcher.close();
      clearTimeout(timer);
      await pending;
      await gateway.stop();
    },
  };
}
