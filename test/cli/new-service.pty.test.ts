import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { PLATFORM_FIXTURE_YAML } from '../fixtures/platform.js';

// The built CLI in a real pseudo-terminal (util-linux `script`), driven by keystrokes: the
// prompts are @clack/prompts', not the test's stand-in. Each keystroke waits for the screen to
// show the question it answers, never for a fixed time.
const AIO = fileURLToPath(new URL('../../lib/bin/aio.js', import.meta.url));
// The frozen fixture, never the live platform.yaml (the README registers review-digest in it).
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const reference = PLATFORM_FIXTURE_YAML.replaceAll('contract: ../../', `contract: ${repoRoot}`);
const work = mkdtempSync(join(tmpdir(), 'aio-pty-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Starts `aio new service` in a pty; `until(text)` resolves once the screen has shown `text`. */
function terminal(cwd: string) {
  // A pty has no size until told: without one, every character wraps onto its own line.
  const command = `stty cols 120 rows 40; node ${AIO} new service --no-install --no-git`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { ...process.env, TERM: 'xterm', COLUMNS: '120', LINES: '40' },
  });
  let screen = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    for (const w of [...waiters]) {
      if (screen.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    until: (text: string) =>
      new Promise<void>((resolve) => (screen.includes(text) ? resolve() : waiters.push({ text, resolve }))),
    type: (keys: string) => void child.stdin.write(keys),
    exited,
    screen: () => screen,
  };
}

describe.skipIf(!existsSync('/usr/bin/script'))('aio new service in a terminal', () => {
  test('refuses a bad answer on the spot, keeps asking, and exits 130 on Ctrl-C with nothing written', async () => {
    const cwd = mkdtempSync(join(work, 'case-'));
    writeFileSync(join(cwd, 'platform.yaml'), reference);
    const t = terminal(cwd);
    await t.until('Service name');
    t.type('Review Digest\r');
    await t.until("try 'review-digest'");
    t.type('\x15review-digest\r'); // Ctrl-U clears the line
    await t.until('Owning team');
    t.type('\x03'); // Ctrl-C
    expect(await t.exited).toBe(130);
    expect(t.screen()).toContain('cancelled; nothing was written');
    expect(readdirSync(cwd)).toEqual(['platform.yaml']);
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toBe(reference);
  }, 60_000);

  test('chooses from select lists, shows the summary, and registers the service once the repo is written', async () => {
    const cwd = mkdtempSync(join(work, 'case-'));
    writeFileSync(join(cwd, 'platform.yaml'), reference);
    const t = terminal(cwd);
    await t.until('Service name');
    t.type('review-digest\r');
    await t.until('Owning team');
    t.type('team-growth\r');
    await t.until('Its own database');
    t.type('\x1b[B\r'); // arrow down to postgres
    await t.until('Its own Redis');
    t.type('\r');
    await t.until('Gateway path prefixes');
    t.type('/api/digests\r');
    await t.until('Services it calls');
    t.type('\r');
    await t.until('Create it?');
    expect(t.screen()).toContain('database postgres, cache none');
    expect(readdirSync(cwd)).toEqual(['platform.yaml']); // nothing before the summary is confirmed
    t.type('\r');
    expect(await t.exited).toBe(0);
    expect(
      JSON.parse(readFileSync(join(cwd, 'review-digest', '.aio', 'scaffold.json'), 'utf8')),
    ).toMatchObject({
      answers: { name: 'review-digest', database: 'postgres', cache: 'none', routes: ['/api/digests'] },
    });
    expect(readFileSync(join(cwd, 'platform.yaml'), 'utf8')).toContain(
      '  review-digest:\n    owner: team-growth\n',
    );
  }, 60_000);
});
