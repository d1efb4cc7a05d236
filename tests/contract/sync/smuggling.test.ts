// The confirmed request smuggling case, against the real sync service behind a real proxy
// (issue 9): `POST /health` with `Connection: content-length` and a body that is itself a
// complete `POST /plugins/v1/gis-export/run`. Before, the fast lane dropped Content-Length (as
// named by Connection), relayed the body, and legacy sync ran the hidden export: a job no flag
// decided and no observation saw. Now the proxy refuses it with 400, on both transports, and
// no job is created; the same export sent plainly through the proxy creates one.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../../proxy/start.js';
import { loadConfig } from '../../../src/config/load.js';
import { ManualFlags, rawRequest } from '../../proxy/harness.js';
import { platform } from './plugin-jobs.js';

const sync = new URL(platform.syncUrl);
const endpoint = { host: sync.hostname, port: Number(sync.port) };

function exportRequest(marker: string): string {
  const body = JSON.stringify({ county_id: 'test_county', format: 'GeoJSON', username: 'contract-tester', area_of_interest: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] }, layers: ['parcels'], parameters: { marker } });
  return `POST /plugins/v1/gis-export/run HTTP/1.1\r\nHost: sync\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function smuggled(marker: string): string {
  const hidden = exportRequest(marker);
  return `POST /health HTTP/1.1\r\nHost: sync\r\nConnection: content-length\r\nContent-Length: ${Buffer.byteLength(hidden)}\r\n\r\n${hidden}`;
}

let db: pg.Client;
const jobsOf = async (marker: string) => Number((await db.query("SELECT count(*) AS n FROM gis_export_jobs WHERE parameters_json->>'marker' = $1", [marker])).rows[0].n);

beforeAll(async () => {
  db = new pg.Client({ connectionString: platform.databaseUrl });
  await db.connect();
});
afterAll(() => db.end());

describe.each([
  ['the fast lane', true],
  ['the node:http path', false],
])('the sync front door on %s', (_path, fastLane) => {
  let proxy: RunningProxy;
  let url: string;

  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: { legacy: { sync: endpoint }, reimpl: { sync: endpoint, gisExport: endpoint }, proxy: { fastLane, sync: { port: 0 } } },
    });
    proxy = await startProxy({ config, catalogue: loadRouteCatalogue(), flagSource: new ManualFlags(), observationStore: new FakeObservationStore(), services: ['sync'] });
    url = proxy.urls.sync!;
  });
  afterAll(() => proxy.close());

  it('refuses POST /health with Connection: content-length and a hidden GIS export run with 400, and sync runs no export', async () => {
    const marker = `smuggled-${randomBytes(6).toString('hex')}`;
    const answer = await rawRequest(url, smuggled(marker));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'CUTOVER_ERR_REQUEST_MALFORMED' });

    // The same export, sent plainly after it, is served and creates its job: the hidden one would have too, and before it.
    const control = `control-${randomBytes(6).toString('hex')}`;
    const served = await rawRequest(url, exportRequest(control).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    expect(served).toMatch(/^HTTP\/1\.1 200 /);
    expect(await jobsOf(control)).toBe(1);
    expect(await jobsOf(marker)).toBe(0);
  });
});
