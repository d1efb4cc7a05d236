import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { LiveNoise } from '../../proxy/shadow/live-noise.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { FakeNoiseStore } from '../../parity/runner/noise-store.js';
import { call, configFor, eventually, ManualFlags, startUpstreams, type TestUpstream, type Upstreams } from './harness.js';

// Live shadow comparisons judge noise as replay and fuzz do: what calibrate learnt, with what
// the route's rules pin (applied without a calibration) or turn off (never applied).
const catalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    { id: 'sync.tokens', service: 'sync', method: 'GET', path: '/tokens', owner: 'tests', writes: false },
    { id: 'sync.requests', service: 'sync', method: 'GET', path: '/requests', owner: 'tests', writes: false, compare: { noise: { '$.request_id': { kind: 'uuid' } } } },
    { id: 'sync.strict', service: 'sync', method: 'GET', path: '/strict', owner: 'tests', writes: false, compare: { noise: { '$.token': 'off' } } },
  ],
});

const uuid = (n: number) => `${String(n).padStart(8, '0')}-1111-4111-8111-111111111111`;

let upstreams: Upstreams;
let proxy: RunningProxy;
let noise: LiveNoise;
const observations = new FakeObservationStore();
const noiseStore = new FakeNoiseStore();
/** What the reimplementation answers at a field legacy fills with a fresh uuid. */
let shadowValue = uuid(2);

beforeAll(async () => {
  upstreams = await startUpstreams();
  upstreams.legacy.behave((req, res) => {
    const field = req.url === '/requests' ? 'request_id' : 'token';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [field]: uuid(1), n: 1 }));
  });
  upstreams.reimpl.behave((req, res) => {
    const field = req.url === '/requests' ? 'request_id' : 'token';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [field]: shadowValue, n: 1 }));
  });
  // A calibration learnt `$.token` as a uuid that differs every time, on both routes that answer one.
  for (const routeId of ['sync.tokens', 'sync.strict']) {
    await noiseStore.save({ routeId, samples: 20, learnedAt: '2026-11-22T00:00:00.000Z', paths: [{ path: '$.token', samples: 20, differed: 20, rate: 1, varies: 'always', kind: 'uuid' }] });
  }
  noise = new LiveNoise(catalogue, noiseStore);
  await noise.start();
  const flags = new ManualFlags();
  for (const route of catalogue.routes) flags.set(route.id, 'shadow');
  proxy = await startProxy({ config: configFor(upstreams), catalogue, flagSource: flags, observationStore: observations, services: ['sync'], noise: (id) => noise.forRoute(id) });
});

afterAll(async () => {
  noise?.close();
  await proxy?.close();
  await Promise.all(Object.values(upstreams ?? {}).map((upstream: TestUpstream) => upstream.close()));
});

/** The observation of one request sent now through the proxy. */
async function observe(path: string): Promise<Observation> {
  const seen = new Set((await observations.list()).map((observed) => observed.id));
  await call(`${proxy.urls.sync}${path}`);
  return eventually(async () => {
    await proxy.flushObservations();
    return (await observations.list()).find((observed) => !seen.has(observed.id) && observed.path === path);
  });
}

describe('live comparisons with noise', () => {
  it('count a difference within what calibrate learnt as noise, the kind kept, and match', async () => {
    shadowValue = uuid(2);
    const observed = await observe('/tokens');
    expect(observed.verdict).toBe('matched');
    expect(observed.differences.map((difference) => [difference.path, difference.disposition?.as])).toEqual([['$.token', 'noise']]);
  });

  it('keep a value of another kind at a noisy path a mismatch', async () => {
    shadowValue = 'not-a-uuid';
    const observed = await observe('/tokens');
    expect(observed.verdict).toBe('mismatched');
  });

  it('apply noise pinned in the route\'s rules without any calibration', async () => {
    shadowValue = uuid(3);
    const observed = await observe('/requests');
    expect(observed.verdict).toBe('matched');
    expect(observed.differences.map((difference) => difference.disposition?.as)).toEqual(['noise']);
  });

  it('never apply what calibrate learnt at a path the route\'s rules turn off', async () => {
    shadowValue = uuid(4);
    const observed = await observe('/strict');
    expect(observed.verdict).toBe('mismatched');
  });
});
