#!/usr/bin/env node
// Makes `npx aio` work inside this repo after `npm ci`: npm links the bins of dependencies and
// workspaces into node_modules/.bin, but never the root package's own bin. Runs from `prepare`.
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'lib/bin/aio.js');
const link = join(root, 'node_modules/.bin/aio');
if (!existsSync(target)) {
  console.error('link-aio: lib/bin/aio.js is missing; run npm run build first');
  process.exit(1);
}
chmodSync(target, 0o755);
mkdirSync(dirname(link), { recursive: true });
try {
  if (lstatSync(link)) unlinkSync(link);
} catch {
  // no previous link
}
symlinkSync(relative(dirname(link), target), link);
