#!/usr/bin/env node
// Writes each kit service's route contract, services/<svc>/openapi.json, which `aio synth` reads to
// gate the HTTPRoutes. The contract is what the running service serves at GET /openapi.json
// (OpenAPI 3.1 from its Fastify route schemas), so this starts each built service on a throwaway
// database and asks it. `--check` compares instead of writing and exits 1 when a file is stale.
// Run after `npm run build`: `npm run contracts` (or `npm run contracts -- --check`).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  TEST_REDIS_URL,
  testRedisPrefix,
  waitForHealthy,
} from '@aio/kit/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** The kit services and the env each needs to start; none of them is called. */
const SERVICES = {
  monolith: () => ({}),
  order: () => ({ INVENTORY_URL: 'http://127.0.0.1:9', PAYMENT_URL: 'http://127.0.0.1:9' }),
  inventory: (prefix) => ({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, SWEEP_INTERVAL_MS: '0' }),
  payment: () => ({}),
};

/** Starts one service, returns its `GET /openapi.json` as pretty JSON. */
async function liveContract(name) {
  const db = await createTestDatabase(`contract_${name}`);
  const prefix = testRedisPrefix(`contract-${name}`);
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true',
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...SERVICES[name](prefix),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHealthy(url, { child, name, timeoutMs: 60_000 }).catch((e) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    return `${JSON.stringify(doc, null, 2)}\n`;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
    await db.drop();
    if (name === 'inventory') {
      const { Redis } = await import('ioredis');
      const redis = new Redis(TEST_REDIS_URL);
      await deleteRedisKeys(redis, prefix);
      await redis.quit();
    }
  }
}

let stale = 0;
const results = await Promise.all(
  Object.keys(SERVICES).map(async (name) => [name, await liveContract(name)]),
);
for (const [name, text] of results) {
  const file = join(root, 'services', name, 'openapi.json');
  const shown = relative(process.cwd(), file);
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  if (check) {
    if (current !== text) {
      stale++;
      console.error(`${shown}: stale; run npm run contracts and commit it`);
    }
  } else if (current !== text) {
    writeFileSync(file, text);
    console.log(`wrote ${shown}`);
  } else {
    console.log(`${shown} is up to date`);
  }
}
process.exit(stale ? 1 : 0);
