#!/usr/bin/env node
// Writes each kit service's route contract, services/<svc>/openapi.json, which `aio synth` reads to
// gate the HTTPRoutes. The contract is what the running service serves at GET /openapi.json
// (OpenAPI 3.1 from its Fastify route schemas), so this starts the built services with @aio/stack
// (a test scope: throwaway databases and Redis keys) and asks each. `--check` compares instead of writing and exits 1 when a file is stale.
// Run after `npm run build`: `npm run contracts` (or `npm run contracts -- --check`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackScope, startStack } from '@aio/stack';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** The kit services whose contracts are written; the stack starts each on a database of its own. */
const SERVICES = ['monolith', 'order', 'inventory', 'payment', 'review', 'catalog', 'order-history'];

/** Each service's `GET /openapi.json` as pretty JSON, from one test-scoped stack of all of them. */
async function liveContracts() {
  const stack = await startStack({
    processes: SERVICES,
    scope: StackScope.test('contract'),
    env: { inventory: { SWEEP_INTERVAL_MS: '0' } },
  });
  try {
    return await Promise.all(
      SERVICES.map(async (name) => {
        const doc = await (await fetch(`${stack.process(name).url}/openapi.json`)).json();
        return [name, `${JSON.stringify(doc, null, 2)}\n`];
      }),
    );
  } finally {
    await stack.stop();
  }
}

let stale = 0;
const results = await liveContracts();
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
