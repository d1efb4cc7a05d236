// A client downloads its GIS export the moment the serving side says COMPLETED; the shadow side's
// run, started apart, may not have written its file yet. The proxy sees that race even when the
// served file is larger than it captures (a route without its own capture bound keeps 4 MiB; a
// county's GeoJSON is ~5 MB), waits for the shadow's file when the route asks, compares the two
// files when both fit the bound, and never records the race as a mismatch.
// A shadow that does not know the job at all is still one.
import type { ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { defaultRoutesFile, loadRouteCatalogue, parseRouteCatalogue, type RouteCatalogue } from '../../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../../proxy/observe/observation.js';
import { startProxy, type RunningProxy } from '../../../proxy/start.js';
import { call, configFor, eventually, ManualFlags, startUpstreams, type Upstreams } from '../../proxy/harness.js';

const gis = '/plugins/v1/gis-export';
const captureLimit = 1024;
// Larger than the capture limit: the serving answer is truncated, as the main job's export is.
const file = Buffer.from(JSON.stringify({ type: 'FeatureCollection', features: Array.from({ length: 200 }, (_, i) => ({ type: 'Feature', id: i, geometry: null })) }));

let upstreams: Upstreams;
let servingId = 0;

interface ProxyUnderTest {
  proxy: RunningProxy;
  store: FakeObservationStore;
  url: string;
}

/** The real catalogue, or one whose download route does not ask to be polled, or keeps no more than the proxy's capture bound. */
function catalogue(without: { poll?: boolean; captureBytes?: boolean } = {}): RouteCatalogue {
  if (!without.poll && !without.captureBytes) return loadRouteCatalogue();
  const raw = parseYaml(readFileSync(defaultRoutesFile, 'utf8')) as { routes: Array<Record<string, unknown>> };
  for (const route of raw.routes) {
    if (route.id !== 'sync.gis-export.download') continue;
    if (without.poll) delete route.eventual;
    if (without.captureBytes) delete route.captureBytes;
  }
  return parseRouteCatalogue(raw);
}

async function startShadowProxy(routes: RouteCatalogue): Promise<ProxyUnderTest> {
  const flags = new ManualFlags();
  for (const id of ['sync.gis-export.run', 'sync.gis-export.download']) flags.set(id, 'shadow');
  const store = new FakeObservationStore();
  const proxy = await startProxy({
    config: configFor(upstreams, { proxy: { shadow: { maxCompareBodyBytes: captureLimit, timeoutMs: 5000 } } }),
    catalogue: routes,
    flagSource: flags,
    observationStore: store,
    services: ['sync'],
  });
  return { proxy, store, url: proxy.urls.sync! };
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const sendFile = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/geo+json', 'content-length': file.length });
  res.end(file);
};

/**
 * Legacy answers /run with job A and serves A's file at once; the shadow GIS export answers /run
 * with job B and, until `shadowFileWritten(B)` says so, refuses B's download as legacy does for a job
 * still running. Answers the two ids.
 */
function exportJobs(shadowFileWritten: (shadowId: string) => boolean): { a: string; b: string } {
  servingId++;
  const a = `00000000-0000-4000-8000-${String(servingId).padStart(12, '0')}`;
  const b = `11111111-1111-4111-8111-${String(servingId).padStart(12, '0')}`;
  upstreams.legacy.behave((req, res) => {
    if (req.method === 'POST') sendJson(res, 200, { job_id: a, status: 'PENDING' });
    else if (req.url === `${gis}/download/${a}`) sendFile(res);
    else sendJson(res, 404, { detail: `GIS export job ${req.url!.split('/').pop()} not found` });
  });
  upstreams.shadowGisExport.behave((req, res) => {
    if (req.method === 'POST') sendJson(res, 200, { job_id: b, status: 'PENDING' });
    else if (req.url !== `${gis}/download/${b}`) sendJson(res, 404, { detail: `GIS export job ${req.url!.split('/').pop()} not found` });
    else if (shadowFileWritten(b)) sendFile(res);
    else sendJson(res, 404, { detail: `Export file for GIS export job ${b} not found` });
  });
  return { a, b };
}

/** Runs an export through the proxy and downloads A the moment the run is recorded (the pair is learnt by then). */
async function runThenDownload(subject: ProxyUnderTest, a: string): Promise<Observation> {
  const run = await call(`${subject.url}${gis}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"county_id":"test_county"}' });
  expect(JSON.parse(run.body.toString('utf8')).job_id).toBe(a);
  await eventually(async () => {
    await subject.proxy.flushObservations();
    return (await subject.store.list({ routeId: 'sync.gis-export.run' })).some((observed) => observed.path === `${gis}/run` && observed.shadow.status === 200) || undefined;
  });
  const downloaded = await call(`${subject.url}${gis}/download/${a}`);
  // The client gets legacy's file, whole, whatever the shadow answered.
  expect(downloaded.status).toBe(200);
  expect(downloaded.body.equals(file)).toBe(true);
  return eventually(async () => {
    await subject.proxy.flushObservations();
    return (await subject.store.list({ routeId: 'sync.gis-export.download' })).find((observed) => observed.path === `${gis}/download/${a}`);
  }, 10_000);
}

const shadowDownloads = (b: string) => upstreams.shadowGisExport.seen.filter((seen) => seen.url === `${gis}/download/${b}`).length;

let polling: ProxyUnderTest;
let pollingTruncated: ProxyUnderTest;
let plain: ProxyUnderTest;

beforeAll(async () => {
  upstreams = await startUpstreams();
  polling = await startShadowProxy(catalogue());
  pollingTruncated = await startShadowProxy(catalogue({ captureBytes: true }));
  plain = await startShadowProxy(catalogue({ poll: true, captureBytes: true }));
});

afterEach(() => {
  for (const upstream of Object.values(upstreams)) upstream.seen.length = 0;
});

afterAll(async () => {
  await polling?.proxy.close();
  await pollingTruncated?.proxy.close();
  await plain?.proxy.close();
  await Promise.all(Object.values(upstreams ?? {}).map((upstream) => upstream.close()));
});

describe('a GIS export download that races the shadow side’s run', () => {
  it('is read again on both sides until the shadow serves its file too, and then both files are compared whole, within the route’s capture bound', async () => {
    // The shadow's file is written once the proxy has read it missing once.
    const { a, b } = exportJobs((shadowId) => shadowDownloads(shadowId) > 1);
    const observed = await runThenDownload(polling, a);
    expect(shadowDownloads(b)).toBeGreaterThanOrEqual(2);
    expect(observed.shadow.status).toBe(200);
    expect(observed.verdict).toBe('matched');
  });

  it('is not a mismatch either when the file is larger than the capture bound, and is said not to be compared, by that rule alone', async () => {
    const { a, b } = exportJobs((shadowId) => shadowDownloads(shadowId) > 1);
    const observed = await runThenDownload(pollingTruncated, a);
    expect(shadowDownloads(b)).toBeGreaterThanOrEqual(2);
    expect(observed.shadow.status).toBe(200);
    expect(observed.verdict).toBe('ignored');
    expect(observed.ignoredBy).toEqual(['compare.max-body']);
  });

  it('is ignored under rule eventual-state, never mismatched, when the route does not ask for polling', async () => {
    const { a, b } = exportJobs(() => false);
    const observed = await runThenDownload(plain, a);
    expect(shadowDownloads(b)).toBe(1);
    expect(observed.shadow.status).toBe(404);
    expect(observed.verdict).toBe('ignored');
    expect(observed.ignoredBy).toEqual(['eventual-state']);
  });

  it('stays a mismatch when the shadow side does not know the job at all', async () => {
    const { a } = exportJobs(() => false);
    upstreams.shadowGisExport.behave((req, res) => {
      if (req.method === 'POST') sendJson(res, 200, { job_id: 'c0ffee00-0000-4000-8000-000000000000', status: 'PENDING' });
      else sendJson(res, 404, { detail: `GIS export job ${req.url!.split('/').pop()} not found` });
    });
    const observed = await runThenDownload(polling, a);
    expect(observed.shadow.status).toBe(404);
    expect(observed.verdict).toBe('mismatched');
  });
});

