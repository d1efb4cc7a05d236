import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInterleavedFixedRate } from '../../bench/load.js';

/** Answers /fast at once, /slow after 25 ms and /fail with a 503; keeps the paths in the order they came. */
let server: Server;
let origin = '';
const received: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? '';
    received.push(path);
    if (path === '/slow') setTimeout(() => response.end('slow'), 25);
    else if (path === '/fail') {
      response.statusCode = 503;
      response.end('no');
    } else response.end('fast');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the interleaved fixed-rate load', () => {
  it('moves between its paths slice by slice and counts each path on its own side, settling excluded', async () => {
    received.length = 0;
    // 400 req/s in slices of 100 ms: 40 requests a slice, the first 8 (due in its first 20 ms) not counted.
    const [fast, slow, fail] = await runInterleavedFixedRate({ origin, paths: ['/fast', '/slow', '/fail'], rate: 400, durationMs: 600, connections: 16, sliceMs: 100, settleMs: 20 });
    // 1.8 s at 400 req/s is 720 requests, 6 slices of 40 per path, in turn.
    expect(received).toHaveLength(720);
    const slices = Array.from({ length: 18 }, (_, slice) => received.slice(slice * 40, slice * 40 + 40));
    // Two connections may swap requests at a slice's edge; a slice is its path's all but for that.
    slices.forEach((paths, slice) => expect(paths.filter((path) => path === ['/fast', '/slow', '/fail'][slice % 3]).length).toBeGreaterThanOrEqual(36));
    for (const side of [fast!, slow!, fail!]) expect(side).toMatchObject({ sent: 240, requests: 6 * 32, errors: 0 });
    // Each side's latencies are its own path's: the 25 ms of /slow are not spread over the others.
    expect(slow!.p50Ms).toBeGreaterThanOrEqual(25);
    expect(fast!.p50Ms).toBeLessThan(slow!.p50Ms);
    expect(fail!.p50Ms).toBeLessThan(slow!.p50Ms);
    // The 503s are the failing path's alone.
    expect([fast!.non2xx, slow!.non2xx, fail!.non2xx]).toEqual([0, 0, 6 * 32]);
  });

  it('refuses a settling time that would leave nothing of a slice to count', async () => {
    await expect(runInterleavedFixedRate({ origin, paths: ['/fast'], rate: 10, durationMs: 100, connections: 1, sliceMs: 50, settleMs: 50 })).rejects.toThrow(/sliceMs \(50\) must exceed settleMs \(50\)/);
  });
});
