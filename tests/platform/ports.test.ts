import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/platform/ports.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('free ports for services started later', () => {
  it('come from below the kernel ephemeral range, where outgoing connections never take them, distinct and bindable', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('skip a port something already listens on', async () => {
    const first = await freePort();
    const holder = createServer();
    // The next port of this worker's slice is taken before it is asked for.
    await new Promise<void>((resolve) => holder.listen(first + 1, '127.0.0.1', resolve));
    try {
      expect(await freePort()).not.toBe(first + 1);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
