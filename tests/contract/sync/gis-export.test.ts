// Contract: sync GIS export plugin, /plugins/v1/gis-export (legacy-contract.md section 1,
// "GIS export plugin"): the job state machine with its quirks (200 on /run, CANCELLING
// overwritten by COMPLETED), exact error messages, pydantic v1 422s, and real files that
// GDAL reopens with as many features as the job reports.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../gateway/gateway-client.js';
import { naiveUtc, platform, sync, uuid4, type Reply } from './plugin-jobs.js';

const run = promisify(execFile);
const prefix = '/plugins/v1/gis-export';
const county = 'test_county';
const defaults = { simplify_tolerance: 0.0001, include_attributes: true, coordinate_system: 'EPSG:4326' };
const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

type Polygon = { type: 'Polygon'; coordinates: number[][][] };
type Extent = { minX: number; minY: number; maxX: number; maxY: number };

let scratch: string;
let extent: Extent;
let countyAoi: Polygon;
const counts = { parcels: 0, zoning: 0, roads: 0 };

function rectangle(e: Extent): Polygon {
  return { type: 'Polygon', coordinates: [[[e.minX, e.minY], [e.maxX, e.minY], [e.maxX, e.maxY], [e.minX, e.maxY], [e.minX, e.minY]]] };
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'gis-export-contract-'));
  const client = new pg.Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    const tables = [['parcels', 'property_operational'], ['zoning', 'zoning_areas'], ['roads', 'road_segments']] as const;
    for (const [layer, table] of tables) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n, min(min_x) AS minx, min(min_y) AS miny, max(max_x) AS maxx, max(max_y) AS maxy
           FROM ${table} WHERE county_id = $1 AND geometry IS NOT NULL`, [county]);
      counts[layer] = rows[0].n;
      if (layer === 'parcels') extent = { minX: rows[0].minx, minY: rows[0].miny, maxX: rows[0].maxx, maxY: rows[0].maxy };
    }
  } finally {
    await client.end();
  }
  const margin = 0.05;
  countyAoi = rectangle({ minX: extent.minX - margin, minY: extent.minY - margin, maxX: extent.maxX + margin, maxY: extent.maxY + margin });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function exportBody(overrides: Record<string, unknown> = {}) {
  return { county_id: county, format: 'GeoJSON', username: 'contract-tester', area_of_interest: countyAoi, layers: ['parcels'], parameters: null, ...overrides };
}

async function submit(overrides: Record<string, unknown> = {}): Promise<Reply> {
  const reply = await sync(`${prefix}/run`, { body: exportBody(overrides) });
  expect(reply.status, reply.text).toBe(200);
  return reply;
}

function terminal(jobId: string, timeoutMs = 60_000): Promise<Reply> {
  return pollUntil(() => sync(`${prefix}/status/${jobId}`), (r) => r.status !== 200 || TERMINAL.includes(r.json.status), timeoutMs);
}

async function completedExport(overrides: Record<string, unknown> = {}) {
  const job = await submit(overrides);
  const status = await terminal(job.json.job_id);
  expect(status.json.status, status.text).toBe('COMPLETED');
  const results = await sync(`${prefix}/results/${job.json.job_id}`);
  expect(results.status).toBe(200);
  return results.json;
}

interface OgrLayer { name: string; geometry: string; count: number; extent?: Extent; text: string }

/** Downloads a job's file and reads it back with `ogrinfo -so -al` (zips through /vsizip/). */
async function downloadAndOpen(jobId: string): Promise<{ reply: Response; bytes: number; path: string; layers: OgrLayer[] }> {
  const reply = await fetch(`${platform.syncUrl}${prefix}/download/${jobId}`);
  expect(reply.status).toBe(200);
  const name = /filename="([^"]+)"/.exec(reply.headers.get('content-disposition') ?? '')?.[1] ?? 'export.bin';
  const path = join(scratch, `${jobId}-${name}`);
  const body = Buffer.from(await reply.arrayBuffer());
  writeFileSync(path, body);
  const source = path.endsWith('.zip') ? `/vsizip/${path}` : path;
  const { stdout } = await run('ogrinfo', ['-so', '-al', '-ro', source], { maxBuffer: 16 * 1024 * 1024 });
  const layers = stdout.split(/^Layer name: /m).slice(1).map((text) => {
    const m = /^Extent: \(([-\d.e+]+), ([-\d.e+]+)\) - \(([-\d.e+]+), ([-\d.e+]+)\)/m.exec(text);
    return {
      name: (text.split('\n')[0] ?? '').trim(),
      geometry: /^Geometry: (.+)$/m.exec(text)?.[1] ?? '',
      count: Number(/^Feature Count: (\d+)$/m.exec(text)?.[1]),
      extent: m ? { minX: Number(m[1]), minY: Number(m[2]), maxX: Number(m[3]), maxY: Number(m[4]) } : undefined,
      text,
    };
  });
  return { reply, bytes: body.length, path: source, layers };
}

async function distinctGeometries(source: string, layer: string): Promise<string[]> {
  const { stdout } = await run('ogrinfo', ['-q', '-ro', '-dialect', 'OGRSQL', '-sql', `SELECT DISTINCT OGR_GEOMETRY FROM "${layer}"`, source]);
  return [...stdout.matchAll(/OGR_GEOMETRY \(String\) = (\w+)/g)].map((m) => m[1] ?? '').sort();
}

describe('GIS export plugin: submitting', () => {
  it('answers 200 (not 202) with a PENDING job whose parameters merge the county defaults flat', async () => {
    const reply = await submit({ layers: ['parcels', 'roads'] });
    expect(reply.json).toEqual({
      job_id: expect.stringMatching(uuid4),
      county_id: county,
      export_format: 'GeoJSON',
      status: 'PENDING',
      message: 'Job created and pending processing',
      parameters: { area_of_interest: countyAoi, layers: ['parcels', 'roads'], ...defaults },
      created_at: expect.stringMatching(naiveUtc),
      updated_at: expect.stringMatching(naiveUtc),
      started_at: null,
      completed_at: null,
    });
    expect(Object.keys(reply.json)).toEqual([
      'job_id', 'county_id', 'export_format', 'status', 'message', 'parameters', 'created_at', 'updated_at', 'started_at', 'completed_at',
    ]);
    await terminal(reply.json.job_id);
  });

  it('keeps explicit parameters as given and never stores the username', async () => {
    const reply = await submit({ parameters: { simplify_tolerance: 0, note: 'kept' }, username: 'secret-user-7731' });
    expect(reply.json.parameters).toEqual({ area_of_interest: countyAoi, layers: ['parcels'], simplify_tolerance: 0, note: 'kept' });
    const client = new pg.Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT row_to_json(j)::text AS row FROM gis_export_jobs j WHERE job_id = $1', [reply.json.job_id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].row).not.toContain('secret-user-7731');
    } finally {
      await client.end();
    }
    await terminal(reply.json.job_id);
  });

  it('refuses a format the county does not list, naming the formats it does', async () => {
    const cases = [
      ['franklin_wa', 'GeoPackage', 'GeoJSON, Shapefile, KML'],
      ['benton_wa', 'FAIL_FORMAT_SIM', 'GeoJSON, Shapefile, KML, GeoPackage, CSV'],
      [county, 'geojson', 'GeoJSON, Shapefile, KML, GeoPackage, CSV, FAIL_FORMAT_SIM'],
    ];
    for (const [countyId, format, supported] of cases) {
      const reply = await sync(`${prefix}/run`, { body: exportBody({ county_id: countyId, format }) });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({
        detail: `Export format '${format}' is not supported for county '${countyId}'. Supported formats are: ${supported}`,
      });
    }
  });

  it('answers pydantic v1 422 lists for a missing username or an empty body', async () => {
    const { username: _dropped, ...withoutUser } = exportBody();
    const missing = await sync(`${prefix}/run`, { body: withoutUser });
    expect(missing.status).toBe(422);
    expect(missing.json).toEqual({ detail: [{ loc: ['body', 'username'], msg: 'field required', type: 'value_error.missing' }] });
    const empty = await sync(`${prefix}/run`, { body: {} });
    expect(empty.status).toBe(422);
    expect(empty.json.detail.map((e: { loc: string[] }) => e.loc[1])).toEqual(['county_id', 'format', 'username', 'area_of_interest', 'layers']);
  });
});

describe('GIS export plugin: the job life cycle', () => {
  it('runs PENDING -> RUNNING -> COMPLETED and reports every feature of the county', async () => {
    const job = await submit({ layers: ['parcels', 'zoning', 'roads'] });
    const status = await terminal(job.json.job_id);
    expect(status.json).toMatchObject({ status: 'COMPLETED', message: 'Export completed successfully' });
    expect(status.json.started_at).toMatch(naiveUtc);
    expect(status.json.completed_at).toMatch(naiveUtc);
    expect(status.json.started_at >= status.json.created_at).toBe(true);
    const results = await sync(`${prefix}/results/${job.json.job_id}`);
    expect(Object.keys(results.json)).toEqual([
      'job_id', 'county_id', 'export_format', 'status', 'message', 'parameters', 'created_at', 'completed_at', 'result',
    ]);
    expect(results.json.result).toEqual({
      file_location: `${prefix}/download/${job.json.job_id}`,
      file_size_kb: expect.any(Number),
      record_count: counts.parcels + counts.zoning + counts.roads,
      data: null,
    });
  });

  it('fails the FAIL_FORMAT_SIM job with the simulated error, and has no results or file', async () => {
    const job = await submit({ format: 'FAIL_FORMAT_SIM' });
    const status = await terminal(job.json.job_id);
    expect(status.json).toMatchObject({ status: 'FAILED', message: 'Export failed: Simulated failure for testing purposes' });
    expect(status.json.completed_at).toMatch(naiveUtc);
    const results = await sync(`${prefix}/results/${job.json.job_id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: `GIS export job ${job.json.job_id} is not completed (current status: FAILED)` });
    expect((await sync(`${prefix}/download/${job.json.job_id}`)).status).toBe(404);
    const cancel = await sync(`${prefix}/cancel/${job.json.job_id}`, { method: 'POST' });
    expect(cancel.status).toBe(400);
    expect(cancel.json).toEqual({ detail: 'Cannot cancel job that is already FAILED' });
  });

  it('fails a job that asks for an unknown layer, naming the layers there are', async () => {
    const job = await submit({ layers: ['parcels', 'rivers'] });
    const status = await terminal(job.json.job_id);
    expect(status.json).toMatchObject({
      status: 'FAILED',
      message: "Export failed: Unknown layer 'rivers'; available layers: parcels, zoning, roads",
    });
  });

  it('refuses to cancel a COMPLETED job', async () => {
    const job = await submit();
    await terminal(job.json.job_id);
    const cancel = await sync(`${prefix}/cancel/${job.json.job_id}`, { method: 'POST' });
    expect(cancel.status).toBe(400);
    expect(cancel.json).toEqual({ detail: 'Cannot cancel job that is already COMPLETED' });
  });

  it('cancels a PENDING job outright, and lets a RUNNING one be overwritten by COMPLETED (production bug)', async () => {
    // Slow jobs (a many-vertex area of interest) fill the worker pool, so the last one waits PENDING.
    const vertices = 8000;
    const cx = (extent.minX + extent.maxX) / 2;
    const cy = (extent.minY + extent.maxY) / 2;
    const radius = Math.max(extent.maxX - extent.minX, extent.maxY - extent.minY);
    const ring = Array.from({ length: vertices }, (_, i) => [cx + radius * Math.cos((2 * Math.PI * i) / vertices), cy + radius * Math.sin((2 * Math.PI * i) / vertices)]);
    ring.push(ring[0]!);
    const slow = { format: 'KML', layers: ['parcels', 'zoning', 'roads'], area_of_interest: { type: 'Polygon', coordinates: [ring] } };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(slow)).json.job_id);
    const [first, second, last] = ids as [string, string, string];
    await pollUntil(() => sync(`${prefix}/status/${first}`), (r) => r.json.status !== 'PENDING', 30_000);

    const pendingCancel = await sync(`${prefix}/cancel/${last}`, { method: 'POST' });
    expect(pendingCancel.status).toBe(200);
    expect(pendingCancel.json).toMatchObject({ job_id: last, status: 'CANCELLED', message: 'Job cancelled before processing started', started_at: null });

    const running = await sync(`${prefix}/status/${first}`);
    expect(running.json).toMatchObject({ status: 'RUNNING', message: 'Job processing started' });
    const runningCancel = await sync(`${prefix}/cancel/${first}`, { method: 'POST' });
    expect(runningCancel.status).toBe(200);
    expect(runningCancel.json).toMatchObject({ status: 'CANCELLING', message: 'Job cancellation requested' });

    const finished = await terminal(first);
    expect(finished.json).toMatchObject({ status: 'COMPLETED', message: 'Export completed successfully' });
    await terminal(second);
    expect((await sync(`${prefix}/status/${last}`)).json).toMatchObject({ status: 'CANCELLED', started_at: null });
  });

  it('answers 404 for unknown jobs on every job route', async () => {
    for (const [method, route] of [['GET', 'status'], ['GET', 'results'], ['POST', 'cancel'], ['GET', 'download']]) {
      const reply = await sync(`${prefix}/${route}/no-such-job`, { method });
      expect(reply.status, route).toBe(404);
      if (route !== 'download') expect(reply.json).toEqual({ detail: 'GIS export job no-such-job not found' });
    }
  });
});

describe('GIS export plugin: the files', () => {
  const formats = [
    { format: 'GeoJSON', type: 'application/geo+json', geometry: ['POLYGON'] },
    { format: 'Shapefile', type: 'application/zip', geometry: ['POLYGON'] },
    { format: 'KML', type: 'application/vnd.google-earth.kml+xml', geometry: ['POLYGON'] },
    { format: 'GeoPackage', type: 'application/geopackage+sqlite3', geometry: ['MULTIPOLYGON'] },
    { format: 'CSV', type: 'text/csv', geometry: ['POLYGON'] },
  ];
  for (const { format, type, geometry } of formats) {
    it(`writes a ${format} file that GDAL reopens with record_count ${geometry.join('/')} features`, async () => {
      const results = await completedExport({ format });
      expect(results.result.record_count).toBe(counts.parcels);
      const file = await downloadAndOpen(results.job_id);
      expect(file.reply.headers.get('content-type')).toContain(type);
      expect(file.layers.reduce((sum, layer) => sum + layer.count, 0)).toBe(results.result.record_count);
      expect(results.result.file_size_kb).toBe(Math.ceil(file.bytes / 1024));
      for (const layer of file.layers) expect(await distinctGeometries(file.path, layer.name)).toEqual(geometry);
    });
  }

  it('writes one layer per requested layer in a GeoPackage and one shapefile per layer in the zip', async () => {
    for (const format of ['GeoPackage', 'Shapefile']) {
      const results = await completedExport({ format, layers: ['parcels', 'zoning', 'roads'] });
      const file = await downloadAndOpen(results.job_id);
      const byName = Object.fromEntries(file.layers.map((l) => [l.name, l.count]));
      expect(byName).toEqual({ parcels: counts.parcels, zoning: counts.zoning, roads: counts.roads });
    }
  });

  it('clips to the area of interest: a western strip keeps fewer features, all inside it', async () => {
    const strip = rectangle({ minX: extent.minX - 0.01, minY: extent.minY - 0.01, maxX: (extent.minX + extent.maxX) / 2, maxY: extent.maxY + 0.01 });
    const results = await completedExport({ area_of_interest: strip, layers: ['parcels', 'roads'] });
    expect(results.result.record_count).toBeGreaterThan(0);
    expect(results.result.record_count).toBeLessThan(counts.parcels + counts.roads);
    const file = await downloadAndOpen(results.job_id);
    const e = file.layers[0]!.extent!;
    // ogrinfo prints extents with 6 decimals.
    expect(e.maxX).toBeLessThanOrEqual((extent.minX + extent.maxX) / 2 + 1e-6);
    expect(file.layers[0]!.count).toBe(results.result.record_count);
  });

  it('reprojects to coordinate_system and drops attributes when include_attributes is false', async () => {
    const results = await completedExport({ parameters: { simplify_tolerance: 0.0001, include_attributes: false, coordinate_system: 'EPSG:3857' } });
    const file = await downloadAndOpen(results.job_id);
    const e = file.layers[0]!.extent!;
    // Web Mercator metres: longitudes near -120 degrees are about -13.4 million metres.
    expect(e.minX).toBeLessThan(-13_000_000);
    expect(e.minY).toBeGreaterThan(5_000_000);
    expect(file.layers[0]!.text).not.toContain('property_id:');
  });
});

describe('GIS export plugin: listing and reference routes', () => {
  it('lists jobs newest first, filtered by county and status', async () => {
    const a = (await submit()).json.job_id;
    const b = (await submit()).json.job_id;
    await terminal(a);
    await terminal(b);
    const list = await sync(`${prefix}/list?county_id=${county}&status=COMPLETED&limit=1000`);
    expect(list.status).toBe(200);
    const ids = list.json.map((j: { job_id: string }) => j.job_id);
    expect(ids.indexOf(b)).toBeLessThan(ids.indexOf(a));
    expect(ids.indexOf(a)).toBeGreaterThanOrEqual(0);
    const created = list.json.map((j: { created_at: string }) => j.created_at);
    expect([...created].sort().reverse()).toEqual(created);
    expect(list.json.every((j: { county_id: string; status: string }) => j.county_id === county && j.status === 'COMPLETED')).toBe(true);
    const page = await sync(`${prefix}/list?county_id=${county}&status=COMPLETED&limit=1&offset=1`);
    expect(page.json.map((j: { job_id: string }) => j.job_id)).toEqual(ids.slice(1, 2));
  });

  it('bounds limit to 1..1000 and offset to >= 0 with 422s', async () => {
    for (const query of ['limit=0', 'limit=1001', 'offset=-1']) {
      const reply = await sync(`${prefix}/list?${query}`);
      expect(reply.status, query).toBe(422);
      expect(reply.json.detail[0].loc).toEqual(['query', query.split('=')[0] ?? '']);
    }
    expect((await sync(`${prefix}/list?limit=0`)).json.detail[0]).toEqual({
      loc: ['query', 'limit'], msg: 'ensure this value is greater than or equal to 1', type: 'value_error.number.not_ge', ctx: { limit_value: 1 },
    });
  });

  it('serves the county formats, export defaults and plugin health', async () => {
    expect((await sync(`${prefix}/formats/franklin_wa`)).json).toEqual(['GeoJSON', 'Shapefile', 'KML']);
    expect((await sync(`${prefix}/defaults/${county}`)).json).toEqual(defaults);
    const health = await sync(`${prefix}/health`);
    expect(health.json).toEqual({ status: 'healthy', plugin: 'gis_export', version: '1.0.0', timestamp: expect.stringMatching(naiveUtc) });
  });

  it('emits the GIS export metrics with county and format labels', async () => {
    const text = (await sync('/metrics')).text;
    expect(text).toMatch(/^gis_export_jobs_submitted_total\{county_id="test_county",export_format="GeoJSON"\} [1-9]/m);
    expect(text).toMatch(/^gis_export_jobs_completed_total\{county_id="test_county",export_format="GeoJSON"\} [1-9]/m);
    expect(text).toMatch(/^gis_export_jobs_failed_total\{county_id="test_county",error_type="\w+",export_format="FAIL_FORMAT_SIM"\} [1-9]/m);
    for (const le of ['1.0', '5.0', '10.0', '30.0', '60.0', '120.0', '300.0', '600.0']) {
      expect(text).toContain(`gis_export_processing_duration_seconds_bucket{county_id="test_county",export_format="GeoJSON",le="${le}"}`);
    }
    expect(text).toMatch(/^gis_export_record_count_count\{county_id="test_county",export_format="GeoJSON"\} [1-9]/m);
    expect(text).toMatch(/^gis_export_file_size_kb_count\{county_id="test_county",export_format="GeoJSON"\} [1-9]/m);
  });
});
