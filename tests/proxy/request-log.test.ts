/** One log entry per served request, on the fast lane and on node:http's path alike. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { RequestLogEntry } from '../../proxy/observe/request-log.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { call, closedPort, configFor, eventually, ManualFlags, startUpstreams, testCatalogue, type Upstreams } from './harness.js';

let upstreams: Upstreams;
const proxies: RunningProxy[] = [];

beforeAll(async () => {
  upstreams = await startUpstreams();
});
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
});

for (const fastLane of [true, false]) {
  describe(`the request log (${fastLane ? 'fast lane' : 'node:http path'})`, () => {
    it('has one entry per request: its id, route, mode, serving side and status, or the failure', async () => {
      const entries: RequestLogEntry[] = [];
      const flags = new ManualFlags();
      const config = configFor(upstreams, { proxy: { fastLane } });
      const proxy = await startProxy({ config, catalogue: testCatalogue, flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'], requestLog: (entry) => entries.push(entry) });
      proxies.push(proxy);
      flags.set('sync.echo', 'shadow');
      await call(`${proxy.urls.sync}/health`, { headers: { 'x-request-id': 'abc-1' } });
      await call(`${proxy.urls.sync}/echo`, { method: 'POST', body: 'x', headers: { 'x-request-id': 'abc-2' } });
      await eventually(() => (entries.length >= 2 ? true : undefined));
      expect(entries.find((entry) => entry.requestId === 'abc-1')).toMatchObject({ service: 'sync', route: 'sync.health', method: 'GET', path: '/health', mode: 'legacy', servedBy: 'legacy', status: 200 });
      expect(entries.find((entry) => entry.requestId === 'abc-2')).toMatchObject({ route: 'sync.echo', method: 'POST', mode: 'shadow', servedBy: 'legacy', status: 200 });
    });
  });
}

describe('the request log of an upstream that does not answer', () => {
  it('carries the failure code instead of a status', async () => {
    const entries: RequestLogEntry[] = [];
    const config = configFor(upstreams, { proxy: { upstreams: { legacy: { sync: `http://127.0.0.1:${await closedPort()}` } } } });
    const proxy = await startProxy({ config, catalogue: testCatalogue, flagSource: new ManualFlags(), observationStore: new FakeObservationStore(), services: ['sync'], requestLog: (entry) => entries.push(entry) });
    proxies.push(proxy);
    expect((await call(`${proxy.urls.sync}/health`)).status).toBe(502);
    const [entry] = await eventually(() => (entries.length > 0 ? entries : undefined));
    expect(entry).toMatchObject({ route: 'sync.health', failure: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE' });
    expect(entry!.status).toBeUndefined();
  });
});
