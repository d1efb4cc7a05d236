/** Upstreams over https: the proxy trusts the configured CA and shows its client certificate, on the fast lane and on node:http's path. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { call, eventually, ManualFlags, testCatalogue } from './harness.js';

const tls = (name: string) => join(import.meta.dirname, 'tls', name);

interface HttpsUpstream {
  url: string;
  /** Common names of the client certificates seen, one per request. */
  clients: string[];
  close(): Promise<void>;
}

/** An https server that requires a client certificate signed by the test CA and answers who it is. */
async function startHttpsUpstream(side: string): Promise<HttpsUpstream> {
  const clients: string[] = [];
  const server: Server = createServer(
    { key: readFileSync(tls('server.key')), cert: readFileSync(tls('server.pem')), ca: readFileSync(tls('ca.pem')), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ side, url: req.url });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let legacy: HttpsUpstream;
let reimpl: HttpsUpstream;
const running: RunningProxy[] = [];

async function proxyWith(upstreamTls: NonNullable<ConfigInput['proxy']>['upstreamTls'], fastLane: boolean): Promise<{ proxy: RunningProxy; flags: ManualFlags; store: FakeObservationStore }> {
  const config = loadConfig({
    env: {},
    overrides: {
      proxy: {
        sync: { port: 0 },
        fastLane,
        upstreams: { legacy: { sync: legacy.url }, reimpl: { sync: reimpl.url } },
        upstreamTls,
        observations: { flushIntervalMs: 20 },
      },
    },
  });
  const flags = new ManualFlags();
  const store = new FakeObservationStore();
  const proxy = await startProxy({ config, catalogue: testCatalogue, flagSource: flags, observationStore: store, services: ['sync'] });
  running.push(proxy);
  return { proxy, flags, store };
}

const trusted = { caFile: tls('ca.pem'), certFile: tls('client.pem'), keyFile: tls('client.key') };

beforeAll(async () => {
  [legacy, reimpl] = await Promise.all([startHttpsUpstream('legacy'), startHttpsUpstream('reimpl')]);
});

afterAll(async () => {
  await Promise.all(running.map((proxy) => proxy.close()));
  await Promise.all([legacy?.close(), reimpl?.close()]);
});

describe('https upstreams', () => {
  for (const fastLane of [true, false]) {
    it(`are reached with the configured CA and client certificate (${fastLane ? 'fast lane' : 'node:http path'}), and shadowed`, async () => {
      const { proxy, flags, store } = await proxyWith(trusted, fastLane);
      const served = await call(`${proxy.urls.sync}/health`);
      expect(served.status).toBe(200);
      expect(JSON.parse(served.body.toString())).toEqual({ side: 'legacy', url: '/health' });
      expect(legacy.clients.at(-1)).toBe('cutover proxy');

      flags.set('sync.health', 'shadow');
      await call(`${proxy.urls.sync}/health`);
      const [observation] = await eventually(async () => {
        await proxy.flushObservations();
        const found = await store.list({ routeId: 'sync.health' });
        return found.length > 0 ? found : undefined;
      });
      expect(observation).toMatchObject({ serving: { status: 200 }, shadow: { status: 200 } });
      expect(reimpl.clients.at(-1)).toBe('cutover proxy');
    });
  }

  it('answer 502 when the CA that signed them is not configured', async () => {
    const { proxy } = await proxyWith({ certFile: trusted.certFile, keyFile: trusted.keyFile }, true);
    const answer = await call(`${proxy.urls.sync}/health`);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ side: 'legacy', route: 'sync.health' });
  });

  it('refuse to start with a certificate file that cannot be read, naming it', async () => {
    await expect(proxyWith({ ...trusted, certFile: tls('missing.pem') }, true)).rejects.toMatchObject({ code: 'CUTOVER_ERR_CONFIG_INVALID', message: expect.stringContaining('missing.pem') });
  });
});
