import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const KIT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A child process (tracing starts once per process): server A receives a request with a
 * `traceparent`, calls server B over node:http, and reports what B saw and whether A's span records.
 */
const CHILD = `
import { startTracing } from '@aio/kit/tracing';
startTracing({ serviceName: 'propagation-only', env: JSON.parse(process.env.TRACING_ENV) });
// loaded through require, as fastify and pg load it, so the instrumentation patches it
const http = (await import('node:module')).createRequire(import.meta.url)('node:http');
const { trace } = await import('@opentelemetry/api');
const listen = (handler) => new Promise((resolve) => {
  const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
});
const b = await listen((req, res) => res.end(JSON.stringify({ traceparent: req.headers.traceparent ?? null })));
const a = await listen((req, res) => {
  const recording = trace.getActiveSpan()?.isRecording() ?? null;
  http.get({ host: '127.0.0.1', port: b.address().port, path: '/' }, (r) => {
    let body = '';
    r.on('data', (c) => (body += c));
    r.on('end', () => res.end(JSON.stringify({ recording, seenByB: JSON.parse(body).traceparent })));
  });
});
const reply = await fetch('http://127.0.0.1:' + a.address().port + '/', {
  headers: { traceparent: process.env.INCOMING },
});
console.log(await reply.text());
a.close();
b.close();
`;

async function run(
  env: Record<string, string>,
): Promise<{ recording: boolean | null; seenByB: string | null }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: KIT,
    env: {
      PATH: process.env.PATH,
      TRACING_ENV: JSON.stringify(env),
      INCOMING: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    recording: boolean | null;
    seenByB: string | null;
  };
}

describe('startTracing without an exporter', () => {
  test.each([
    ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'true' }],
    ['no exporter configured', {}],
  ])('%s: records no span but forwards the incoming trace to outgoing calls', async (_, env) => {
    const { recording, seenByB } = await run(env);
    expect(recording).toBe(false);
    // same trace id and sampled flag; the span id is the caller's, since nothing new is recorded
    expect(seenByB).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });
});
