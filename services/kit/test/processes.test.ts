import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { freePort, freePortBlock, portIsFree, waitForHealthy } from '../src/testing/index.js';

describe('waitForHealthy', () => {
  test('resolves once /healthz answers 2xx, after earlier 503s', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls++;
      res.writeHead(req.url === '/healthz' && calls >= 3 ? 200 : 503).end();
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await waitForHealthy(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect(calls).toBe(3);
    } finally {
      server.close();
    }
  });

  test('polls the given path instead of /healthz', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 404).end()).listen(
      0,
      '127.0.0.1',
    );
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await waitForHealthy(url, { path: '/ready' });
      await expect(waitForHealthy(url, { timeoutMs: 100 })).rejects.toThrow(
        'did not answer /healthz in time',
      );
    } finally {
      server.close();
    }
  });

  test('fails at once, naming the service and the exit code, when the process exits first', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    await once(child, 'exit');
    await expect(
      waitForHealthy(`http://127.0.0.1:${await freePort()}`, { child, name: 'order', hint: 'see order.log' }),
    ).rejects.toThrow('order exited before /healthz answered (code 3); see order.log');
  });

  test('gives up after the timeout on a port nobody listens on', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(waitForHealthy(url, { timeoutMs: 200 })).rejects.toThrow(
      `${url} did not answer /healthz in time`,
    );
  });
});

describe('freePort', () => {
  test('hands out a port below the ephemeral range that the caller can bind', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(Number(low));
    const server = createServer().listen(ports[0], '127.0.0.1');
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
  });

  test('freePortBlock hands out consecutive free ports below the ephemeral range; portIsFree sees a held one', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const first = await freePortBlock(9);
    expect(first + 8).toBeLessThan(Number(low));
    const ports = Array.from({ length: 9 }, (_, i) => first + i);
    expect(await Promise.all(ports.map(portIsFree))).toEqual(Array(9).fill(true));
    const held = createServer().listen(first, '127.0.0.1');
    await once(held, 'listening');
    expect(await portIsFree(first)).toBe(false);
    held.close();
    await once(held, 'close');
  });
});
