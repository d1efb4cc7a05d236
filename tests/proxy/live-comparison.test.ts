// Live shadow comparisons run in the comparison workers, off the proxy's event loop, on the
// engine's async path: a download is compared by content with GDAL, as flags/routes.yaml says
// (`$: { as: file }`), not by bytes. Whatever a comparison does — throw, or take its worker down
// — the client's answer is the serving side's, the failure is counted, and the next exchange
// is compared by a worker started in its place.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { alive, call, configFor, eventually, ManualFlags, startUpstreams, type Upstreams } from './harness.js';

const download = '/plugins/v1/gis-export/download/00000000-0000-4000-8000-000000000001';

interface Parcel {
  id: string;
  value: number;
  at: [number, number];
}
const parcels: Parcel[] = [
  { id: 'p1', value: 100.5, at: [1, 2] },
  { id: 'p2', value: 200, at: [3, 4] },
];

/** A GeoJSON export of `rows`; `style` changes only what no GIS reads (a feature's member order, spacing, feature order). */
function geojson(rows: readonly Parcel[], style: 'pretty' | 'compact'): Buffer {
  const features = rows.map((row) =>
    style === 'pretty'
      ? { type: 'Feature', properties: { id: row.id, value: row.value }, geometry: { type: 'Point', coordinates: row.at } }
      : { geometry: { coordinates: row.at, type: 'Point' }, properties: { id: row.id, value: row.value }, type: 'Feature' },
  );
  const collection = { type: 'FeatureCollection', name: 'parcels', features: style === 'pretty' ? features : [...features].reverse() };
  return Buffer.from(style === 'pretty' ? JSON.stringify(collection, null, 2) : JSON.stringify(collection));
}

const send = (res: ServerResponse, body: Buffer, type = 'application/geo+json') => {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
};

let upstreams: Upstreams;
let proxy: RunningProxy;
let url: string;
const store = new FakeObservationStore();
const flags = new ManualFlags();

beforeAll(async () => {
  upstreams = await startUpstreams();
  // Every comparison goes to a worker here, however small (proxy.compare.inlineMaxBytes 0).
  proxy = await startProxy({ config: configFor(upstreams, { proxy: { compare: { inlineMaxBytes: 0 } } }), catalogue: loadRouteCatalogue(), flagSource: flags, observationStore: store, services: ['sync'] });
  url = proxy.urls.sync!;
  flags.set('sync.gis-export.download', 'shadow');
  flags.set('sync.health', 'shadow');
});
afterAll(async () => {
  await proxy.close();
  await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
});

async function downloadObserved(count: number) {
  return eventually(async () => {
    await proxy.flushObservations();
    const found = await store.list({ routeId: 'sync.gis-export.download' });
    return found.length >= count ? found[0] : undefined;
  }, 20_000);
}

/** The health observations once there are `count` (the shadow answer may land after the client's). */
const healthObserved = (count: number) =>
  eventually(async () => {
    await proxy.flushObservations();
    const found = await store.list({ routeId: 'sync.health' });
    return found.length >= count ? found : undefined;
  }, 20_000);

/** Process ids of this test process's comparison workers. */
const workers = () =>
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('compare-worker'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));

/** The one comparison worker started since `before` was taken, once there is exactly one. */
const workerStartedSince = (before: ReadonlySet<number>) =>
  eventually(() => {
    const started = workers().filter((pid) => !before.has(pid));
    return started.length === 1 ? started[0] : undefined;
  });

const metric = async (name: string) => (await proxy.metrics.registry.getSingleMetricAsString(name)).split('\n').filter((line) => !line.startsWith('#'));

describe('a live download', () => {
  it('is matched when both files hold the same layers, whatever their bytes', async () => {
    const served = geojson(parcels, 'pretty');
    upstreams.legacy.behave((_req, res) => send(res, served));
    upstreams.gisExport.behave((_req, res) => send(res, geojson(parcels, 'compact')));
    const answer = await call(`${url}${download}`);
    expect(answer.body.equals(served)).toBe(true);
    const observed = await downloadObserved(1);
    expect(geojson(parcels, 'pretty').equals(geojson(parcels, 'compact'))).toBe(false);
    expect({ verdict: observed.verdict, differences: observed.differences }).toEqual({ verdict: 'matched', differences: [] });
  });

  it('is mismatched at the attribute a GIS would read differently, by path', async () => {
    upstreams.legacy.behave((_req, res) => send(res, geojson(parcels, 'pretty')));
    upstreams.gisExport.behave((_req, res) => send(res, geojson([parcels[0]!, { ...parcels[1]!, value: 201 }], 'compact')));
    await call(`${url}${download}`);
    const observed = await downloadObserved(2);
    expect(observed.verdict).toBe('mismatched');
    expect(observed.differences.map((difference) => [difference.path, difference.kind, difference.serving, difference.shadow])).toEqual([['$.parcels[1].value', 'file', '200', '201']]);
  });
});

describe('a comparison worker', () => {
  /** The priority of the worker a new proxy starts for its first comparison (its own proxy and store, so the shared ones see nothing). */
  async function workerPriority(compare: Record<string, number>): Promise<number> {
    const before = new Set(workers());
    const own = await startProxy({ config: configFor(upstreams, { proxy: { compare: { inlineMaxBytes: 0, ...compare } } }), catalogue: loadRouteCatalogue(), flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'] });
    try {
      upstreams.legacy.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
      upstreams.reimpl.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
      await call(`${own.urls.sync}/health`);
      return getPriority(await workerStartedSince(before));
    } finally {
      await own.close();
    }
  }

  it('runs 10 nicer than the proxy, so serving has a busy core first; with proxy.compare.niceness 0, at the proxy’s priority', async () => {
    expect(await workerPriority({})).toBe(Math.min(19, getPriority() + 10));
    expect(await workerPriority({ niceness: 0 })).toBe(getPriority());
  });
});

describe('a comparison that fails in its worker', () => {
  // Nested deep enough that the JSON reader takes it and the diff's recursion does not: the engine throws RangeError.
  const deep = (leaf: string) => Buffer.from(`${'['.repeat(4500)}${leaf}${']'.repeat(4500)}`);

  it('costs that observation only: the client gets legacy’s answer, the failure is counted, the next exchange is compared', async () => {
    upstreams.legacy.behave((_req, res) => send(res, deep('1'), 'application/json'));
    upstreams.reimpl.behave((_req, res) => send(res, deep('2'), 'application/json'));
    const answer = await call(`${url}/health`);
    expect(answer.body.equals(deep('1'))).toBe(true);
    await eventually(async () => ((await metric('cutover_proxy_comparison_failures_total')).some((line) => line.includes('code="CUTOVER_ERR_COMPARISON_FAILED"')) ? true : undefined), 10_000);
    expect(await store.list({ routeId: 'sync.health' })).toEqual([]);

    upstreams.legacy.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
    upstreams.reimpl.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
    await call(`${url}/health`);
    expect((await healthObserved(1)).map((observation) => observation.verdict)).toEqual(['matched']);
  });

  it('costs that observation only when it is small enough to be compared on the proxy’s own loop', async () => {
    const inline = await startProxy({ config: configFor(upstreams), catalogue: loadRouteCatalogue(), flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'] });
    try {
      upstreams.legacy.behave((_req, res) => send(res, deep('1'), 'application/json'));
      upstreams.reimpl.behave((_req, res) => send(res, deep('2'), 'application/json'));
      expect((await call(`${inline.urls.sync}/health`)).body.equals(deep('1'))).toBe(true);
      const failures = async () => (await inline.metrics.registry.getSingleMetricAsString('cutover_proxy_comparison_failures_total')).split('\n');
      await eventually(async () => ((await failures()).includes('cutover_proxy_comparison_failures_total{route="sync.health",code="CUTOVER_ERR_COMPARISON_FAILED"} 1') ? true : undefined), 10_000);
      // Compared here, not in a worker: none was started for it.
      expect(await inline.metrics.registry.getSingleMetricAsString('cutover_proxy_compare_worker_restarts_total')).not.toMatch(/ \d+$/m);
      expect((await call(`${inline.urls.sync}/health`)).body.equals(deep('1'))).toBe(true);
    } finally {
      await inline.close();
    }
  });

  it('is restarted and counted when its worker dies, and the proxy serves on', async () => {
    upstreams.legacy.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
    upstreams.reimpl.behave((_req, res) => send(res, Buffer.from('{"status":"healthy"}'), 'application/json'));
    const [worker] = await eventually(() => (workers().length === 1 ? workers() : undefined));
    process.kill(worker!, 'SIGKILL');
    await eventually(async () => ((await metric('cutover_proxy_compare_worker_restarts_total')).some((line) => line === 'cutover_proxy_compare_worker_restarts_total{reason="died"} 1') ? true : undefined));
    expect((await call(`${url}/health`)).body.toString()).toBe('{"status":"healthy"}');
    expect((await healthObserved(2)).map((observation) => observation.verdict)).toEqual(['matched', 'matched']);
    const [replacement] = workers();
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(worker);
  });
});

describe('a comparison past proxy.compare.timeoutMs', () => {
  it('has its worker killed and replaced, is counted, and changes nothing the client gets', async () => {
    // 1 ms: no worker even starts that fast, so the first comparison always runs past it.
    const impatient = await startProxy({ config: configFor(upstreams, { proxy: { compare: { timeoutMs: 1, inlineMaxBytes: 0 } } }), catalogue: loadRouteCatalogue(), flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'] });
    try {
      const served = Buffer.from('{"status":"healthy","n":1}');
      upstreams.legacy.behave((_req, res) => send(res, served, 'application/json'));
      const answer = await call(`${impatient.urls.sync}/health`);
      expect(answer.body.equals(served)).toBe(true);
      const lines = async (name: string) => (await impatient.metrics.registry.getSingleMetricAsString(name)).split('\n');
      await eventually(async () => ((await lines('cutover_proxy_comparison_failures_total')).includes('cutover_proxy_comparison_failures_total{route="sync.health",code="CUTOVER_ERR_COMPARISON_TIMEOUT"} 1') ? true : undefined), 10_000);
      expect(await lines('cutover_proxy_compare_worker_restarts_total')).toContain('cutover_proxy_compare_worker_restarts_total{reason="timeout"} 1');
    } finally {
      await impatient.close();
    }
  });
});

describe('closing the proxy', () => {
  /** The process group of a process (field 5 of /proc/<pid>/stat). */
  const groupOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);

  it('ends its comparison worker once the last comparison is recorded; a Ctrl-C to the proxy’s process group never reaches the worker', async () => {
    const before = new Set(workers());
    const closing = await startProxy({ config: configFor(upstreams, { proxy: { compare: { inlineMaxBytes: 0 } } }), catalogue: loadRouteCatalogue(), flagSource: flags, observationStore: new FakeObservationStore(), services: ['sync'] });
    const served = Buffer.from('{"status":"healthy"}');
    upstreams.legacy.behave((_req, res) => send(res, served, 'application/json'));
    upstreams.reimpl.behave((_req, res) => send(res, served, 'application/json'));
    await call(`${closing.urls.sync}/health`);
    const worker = await workerStartedSince(before);
    expect(groupOf(worker)).not.toBe(groupOf(process.pid));
    await eventually(async () => {
      await closing.flushObservations();
      return (await closing.metrics.registry.getSingleMetricAsString('cutover_proxy_shadow_verdicts_total')).includes('verdict="matched"} 1') ? true : undefined;
    }, 10_000);
    expect(alive(worker)).toBe(true);
    await closing.close();
    await eventually(() => (alive(worker) ? undefined : true), 5_000);
  });
});
