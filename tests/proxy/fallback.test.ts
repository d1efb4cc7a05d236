/**
 * Fallback to legacy: a read the reimplementation fails while serving it (5xx, unreachable,
 * timeout before headers) is answered by legacy, counted and still observed as the
 * reimplementation's failure; a write never falls back, so it is never doubled.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { routeFallsBack } from '../../proxy/serving/fallback.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { answerJson, call, closedPort, configFor, eventually, ManualFlags, startUpstreams, stopTestProxy, testCatalogue, type Upstreams } from './harness.js';


describe('fallback to legacy', () => {
  let upstreams: Upstreams;
  let proxy: RunningProxy;
  let deadReimplProxy: RunningProxy;
  const flags = new ManualFlags();
  const observations = new FakeObservationStore();

  beforeAll(async () => {
    upstreams = await startUpstreams();
    proxy = await startProxy({ config: configFor(upstreams), catalogue: testCatalogue, flagSource: flags, observationStore: observations, services: ['sync'], random: () => 0 });
    const config = configFor(upstreams);
    const dead = { host: '127.0.0.1', port: await closedPort() };
    deadReimplProxy = await startProxy({ config: { ...config, reimpl: { ...config.reimpl, sync: dead } }, catalogue: testCatalogue, flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'], random: () => 0 });
  });
  afterAll(async () => {
    await deadReimplProxy.close();
    await stopTestProxy({ proxy, flags, store: observations, url: '' }, upstreams);
  });
  beforeEach(() => {
    for (const upstream of Object.values(upstreams)) {
      upstream.restore();
      upstream.seen.length = 0;
    }
    upstreams.legacy.behave((_req, res) => answerJson(res, 200, { from: 'legacy' }));
  });

  it('answers with legacy when the serving reimplementation answers 500, counts it, and observes the 500 as the reimplementation', async () => {
    flags.set('sync.health', 'reimpl');
    upstreams.reimpl.behave((_req, res) => answerJson(res, 500, { error: 'boom' }));
    const got = await call(`${proxy.urls.sync!}/health?fallback=1`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'legacy' });
    expect(got.headers['x-cutover-served-by']).toBe('legacy');
    expect(got.headers['x-cutover-fallback']).toBe('reimpl-5xx');
    const observed = await eventually(async () => (await observations.list()).find((entry) => entry.path === '/health?fallback=1'));
    expect(observed).toMatchObject({ mode: 'reimpl', serving: { side: 'reimpl', status: 500 }, shadow: { side: 'legacy', status: 200 } });
    expect(await proxy.metrics.registry.metrics()).toContain('cutover_proxy_fallbacks_total{route="sync.health",reason="5xx"} 1');
  });

  it('answers with legacy when the reimplementation cannot be reached, under a canary too', async () => {
    flags.set('sync.health', 'canary', 100);
    const got = await call(`${deadReimplProxy.urls.sync!}/health`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'legacy' });
    expect(got.headers['x-cutover-fallback']).toBe('reimpl-connection');
  });

  it('never falls back for a write: the client gets the reimplementation\'s 500 and legacy is not asked twice', async () => {
    flags.set('sync.gis-export.run', 'reimpl');
    upstreams.gisExport.behave((_req, res) => answerJson(res, 500, { error: 'boom' }));
    const got = await call(`${proxy.urls.sync!}/plugins/v1/gis-export/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"county_id":"x"}' });
    expect(got.status).toBe(500);
    expect(got.headers['x-cutover-fallback']).toBeUndefined();
    expect(upstreams.legacy.seen.filter((seen) => seen.url.startsWith('/plugins'))).toEqual([]);
  });

  it('leaves a healthy reimplementation\'s answer alone', async () => {
    flags.set('sync.health', 'reimpl');
    upstreams.reimpl.behave((_req, res) => answerJson(res, 200, { from: 'reimpl' }));
    const got = await call(`${proxy.urls.sync!}/health`);
    expect(JSON.parse(got.body.toString())).toEqual({ from: 'reimpl' });
    expect(got.headers['x-cutover-fallback']).toBeUndefined();
  });

  it('is on for reads by default, off for writes, and a writing route may only ask for it when idempotent', () => {
    expect(routeFallsBack({ writes: false })).toBe(true);
    expect(routeFallsBack({ writes: false, fallback: false })).toBe(false);
    expect(routeFallsBack({ writes: true })).toBe(false);
    expect(routeFallsBack({ writes: true, idempotent: true })).toBe(false);
    expect(routeFallsBack({ writes: true, idempotent: true, fallback: true })).toBe(true);
    const route = { id: 'sync.x', service: 'sync', method: 'POST', path: '/x', owner: 'o', writes: true, compare: { ignore: [], headers: [] } };
    expect(() => parseRouteCatalogue({ version: 1, routes: [{ ...route, fallback: true }] })).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
    expect(routeFallsBack(parseRouteCatalogue({ version: 1, routes: [{ ...route, fallback: true, idempotent: true }] }).routes[0]!)).toBe(true);
  });
});
