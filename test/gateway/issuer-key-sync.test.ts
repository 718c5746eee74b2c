import { DEV_TOKEN_AUDIENCE } from '@aio/kit/testing';
import { StackScope, startStack, type Stack } from '@aio/stack';
import { Testing } from 'cdk8s';
import { importSPKI, jwtVerify } from 'jose';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { credentialTagValue, GatewayChart, ISSUER_SECRET, type KubeObject } from '../../charts/index.js';
import { loadPlatform } from '../../model/index.js';
import { at, find, keySyncEnv } from '../charts/helpers.js';

// The edge's key sync, run for real: the script and the environment exactly as the cognito
// fixture's CronJob synthesizes them, against the local stack's development issuer (a real
// process). No API server runs on this machine: a small HTTPS server stands in for the Secrets
// endpoints of the Kubernetes API (PUT, POST), checks the service account token and records what
// it is sent. The ExternalSecret's Secret is played by the values the secretKeyRefs name.
const FIXTURE = fileURLToPath(new URL('../fixtures/cognito/platform.yaml', import.meta.url));
const SA_TOKEN = 'sync-service-account-token';

interface Written {
  readonly method: string;
  readonly name: string;
  readonly body: {
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
    stringData: { key: string; algorithm: string; rsa_public_key: string };
  };
}

let stack: Stack;
let issuer: string;
let dir: string;
let api: https.Server;
let apiPort: number;
const secrets = new Map<string, Written['body']>();
const writes: Written[] = [];
let objects: KubeObject[];

beforeAll(async () => {
  stack = await startStack({ processes: ['token-issuer'], scope: StackScope.test('key-sync') });
  issuer = stack.process('token-issuer').url;
  dir = mkdtempSync(join(tmpdir(), 'aio-key-sync-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'api.key'),
      '-out',
      join(dir, 'ca.crt'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'token'), `${SA_TOKEN}\n`);
  api = https.createServer({
    key: readFileSync(join(dir, 'api.key')),
    cert: readFileSync(join(dir, 'ca.crt')),
  });
  api.on('request', (req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += String(c)));
    req.on('end', () => {
      const m = /^\/api\/v1\/namespaces\/kong\/secrets(?:\/([\w.-]+))?$/.exec(req.url ?? '');
      const reply = (status: number, body: unknown = {}) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers.authorization !== `Bearer ${SA_TOKEN}`) return reply(401);
      if (!m) return reply(404);
      const body = JSON.parse(text) as Written['body'];
      const name = m[1] ?? body.metadata.name;
      if (req.method === 'PUT' && !secrets.has(name)) return reply(404);
      if (req.method === 'POST' && secrets.has(name)) return reply(409);
      if (req.method !== 'PUT' && req.method !== 'POST') return reply(405);
      secrets.set(name, body);
      writes.push({ method: req.method, name, body });
      return reply(req.method === 'POST' ? 201 : 200, body);
    });
  });
  api.listen(0, '127.0.0.1');
  await new Promise((r) => api.once('listening', r));
  apiPort = (api.address() as AddressInfo).port;
  const model = loadPlatform(FIXTURE);
  objects = Testing.synth(
    new GatewayChart(Testing.app(), 'gw', GatewayChart.propsFromModel(model, 'prod')),
  ) as KubeObject[];
  writeFileSync(
    join(dir, 'sync.mjs'),
    at<string>(find(objects, 'ConfigMap', 'issuer-key-sync', 'kong'), 'data', 'sync.mjs'),
  );
});

afterAll(async () => {
  api?.close();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CronJob's environment as the kubelet would resolve it, the pod's paths pointed at `dir`. */
function jobEnv(issuerSecret: Record<string, string>): Record<string, string> {
  const declared = keySyncEnv(objects);
  const env: Record<string, string> = {};
  for (const e of declared) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) expect(ref.name).toBe(ISSUER_SECRET);
    env[e.name] = ref ? (issuerSecret[ref.key] ?? '') : e.value!;
  }
  return {
    ...env,
    SERVICE_ACCOUNT_DIR: dir,
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'),
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(apiPort),
    PATH: process.env.PATH ?? '',
  };
}

function runSync(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'sync.mjs')], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const issuerValues = () => ({
  issuer,
  audience: DEV_TOKEN_AUDIENCE,
  jwksUri: `${issuer}/.well-known/jwks.json`,
});
async function publishedKids(): Promise<string[]> {
  const res = await fetch(`${issuer}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}
async function verifies(slot: string, token: string): Promise<boolean> {
  const pem = secrets.get(slot)!.stringData.rsa_public_key;
  try {
    await jwtVerify(token, await importSPKI(pem, 'RS256'), { issuer, audience: DEV_TOKEN_AUDIENCE });
    return true;
  } catch {
    return false;
  }
}

describe('issuer key sync (the CronJob script)', () => {
  test('rejects a missing issuer value and writes nothing', async () => {
    const before = writes.length;
    const result = await runSync(jobEnv({ ...issuerValues(), issuer: '' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ISSUER is empty');
    expect(writes.length).toBe(before);
  });

  test('writes one credential per slot, keyed by kid and tagged with the issuer and audience', async () => {
    const result = await runSync(jobEnv(issuerValues()));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [kid] = await publishedKids();
    const tags = `aio-iss:${credentialTagValue(issuer)},aio-aud:${credentialTagValue(DEV_TOKEN_AUDIENCE)}`;
    expect(tags).not.toMatch(/\/|,.*,/);
    expect([...secrets.keys()].sort()).toEqual(['aio-issuer-key-0', 'aio-issuer-key-1', 'aio-issuer-key-2']);
    for (const [slot, key] of [
      ['aio-issuer-key-0', kid],
      ['aio-issuer-key-1', `${kid}#1`],
      ['aio-issuer-key-2', `${kid}#2`],
    ] as const) {
      const secret = secrets.get(slot)!;
      expect(secret.metadata.labels).toEqual({ 'konghq.com/credential': 'jwt' });
      expect(secret.metadata.annotations).toEqual({ 'konghq.com/tags': tags });
      expect(secret.stringData).toMatchObject({ key, algorithm: 'RS256' });
    }
    expect(writes.map((w) => w.method)).toEqual(['POST', 'POST', 'POST']);
    // the written public key verifies the issuer's token
    expect(await verifies('aio-issuer-key-0', await stack.tokens.for('alice'))).toBe(true);
  });

  test('after a key rotation, the next run publishes both keys and the new one verifies', async () => {
    const rotated = await fetch(`${issuer}/keys/rotate`, { method: 'POST' });
    expect(rotated.ok).toBe(true);
    const { kid: next } = (await rotated.json()) as { kid: string };
    const result = await runSync(jobEnv(issuerValues()));
    expect(result.code).toBe(0);
    const kids = await publishedKids();
    expect(kids).toContain(next);
    expect(['aio-issuer-key-0', 'aio-issuer-key-1'].map((s) => secrets.get(s)!.stringData.key)).toEqual(kids);
    expect(secrets.get('aio-issuer-key-2')!.stringData.key).toBe(`${kids[kids.length - 1]}#2`);
    expect(writes.slice(-3).map((w) => w.method)).toEqual(['PUT', 'PUT', 'PUT']);
    const token = await stack.tokens.request({ customer: 'bob' });
    expect(await verifies('aio-issuer-key-1', token)).toBe(true);
    expect(await verifies('aio-issuer-key-0', token)).toBe(false);
  });
});
