import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { differential, legacyClosedRule } from '../../../parity/runner/fuzz.js';

/**
 * Legacy's sync closes a kept-alive connection after an unhandled exception's 500, and the
 * fuzzer's next request on it fails before any answer. Here a server on an ephemeral port
 * cuts the connection of the first request that asks for it, without answering, as that closed
 * connection does; a request sent again is answered.
 */
function sideServer(cutFirst: boolean): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  let cut = !cutFirst;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    if (!cut) {
      cut = true;
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'healthy' }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    resolve({ server, url: `http://127.0.0.1:${address.port}`, requests: () => requests });
  }));
}

let legacy: Awaited<ReturnType<typeof sideServer>>;
let reimpl: Awaited<ReturnType<typeof sideServer>>;
beforeAll(async () => {
  [legacy, reimpl] = await Promise.all([sideServer(true), sideServer(false)]);
});
afterAll(async () => {
  await Promise.all([legacy, reimpl].map(({ server }) => new Promise((resolve) => server.close(resolve))));
});

describe('a fuzzed request that meets a connection legacy closed', () => {
  it('is sent again once on both sides, counted under its rule, and compared on the answers of the second try', async () => {
    const catalogue = loadRouteCatalogue();
    const route = catalogue.byId('sync.health')!;
    const { result, retried } = await differential(route, catalogue, { method: 'GET', path: '/health' }, { legacy: legacy.url, reimpl: reimpl.url });
    expect(retried).toBe(legacyClosedRule);
    expect(result.verdict).toBe('matched');
    expect(legacy.requests()).toBe(2);
    expect(reimpl.requests()).toBe(2);
  });

  it("is not sent again when it is the reimplementation's connection that failed: that is the reimplementation's to answer for", async () => {
    const [cutReimpl, plainLegacy] = await Promise.all([sideServer(true), sideServer(false)]);
    try {
      const catalogue = loadRouteCatalogue();
      const { result, retried } = await differential(catalogue.byId('sync.health')!, catalogue, { method: 'GET', path: '/health' }, { legacy: plainLegacy.url, reimpl: cutReimpl.url });
      expect(retried).toBeUndefined();
      expect(result.verdict).toBe('errored');
      expect(result.parts[0]?.comparison.failures?.reimpl?.code).toBe('UND_ERR_SOCKET');
    } finally {
      await Promise.all([cutReimpl, plainLegacy].map(({ server }) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
