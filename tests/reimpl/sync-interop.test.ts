// Legacy and reimplemented sync share one schema and one EXPORT_DIR: each reads, lists, cancels
// and downloads the jobs the other created, and both answer the read routes byte for byte.
import pg from 'pg';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareExportFiles } from '../../parity/compare/file.js';
import { ask, startSideBySide, until, type Answer, type SideBySide } from './side-by-side.js';

const prefix = '/plugins/v1/gis-export';

/** The files of a zip, by name in archive order (local headers; stored or deflated). */
function zipEntries(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  // Sizes come from the central directory: a streaming writer may leave them 0 locally.
  let at = zip.readUInt32LE(zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16);
  while (zip.readUInt32LE(at) === 0x02014b50) {
    const [method, compressed, nameLength, extra, comment, local] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 20), zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32), zip.readUInt32LE(at + 42)];
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(data, data + compressed);
    entries.set(name, method === 8 ? inflateRawSync(raw) : raw);
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}
/** What a GeoPackage declares besides its rows: tables of gpkg_*, the rtrees' row counts, the schema's names. */
function geoPackageMetadata(gpkg: Buffer): unknown {
  const directory = mkdtempSync(join(tmpdir(), 'cutover-gpkg-'));
  const path = join(directory, 'export.gpkg');
  writeFileSync(path, gpkg);
  const db = new Database(path, { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      applicationId: db.pragma('application_id', { simple: true }),
      userVersion: db.pragma('user_version', { simple: true }),
      objects: all("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name"),
      contents: all('SELECT table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents ORDER BY table_name'),
      geometryColumns: all('SELECT * FROM gpkg_geometry_columns ORDER BY table_name'),
      spatialRefSys: all('SELECT * FROM gpkg_spatial_ref_sys ORDER BY srs_id'),
      extensions: all('SELECT * FROM gpkg_extensions ORDER BY table_name'),
      counts: all('SELECT * FROM gpkg_ogr_contents ORDER BY table_name'),
      rtrees: (all("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%rtree%' ORDER BY name") as { name: string }[]).map(({ name }) => [name, db.prepare(`SELECT count(*) AS n FROM "${name}"`).get()]),
    };
  } finally {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

let sides: SideBySide;
let aoi: unknown;
let slowAoi: unknown;

beforeAll(async () => {
  sides = await startSideBySide('sync_interop');
  const client = new pg.Client({ connectionString: sides.databaseUrl });
  await client.connect();
  const { rows } = await client.query(
    "SELECT min(min_x) AS x0, min(min_y) AS y0, max(max_x) AS x1, max(max_y) AS y1 FROM property_operational WHERE county_id = 'test_county'",
  );
  await client.end();
  const { x0, y0, x1, y1 } = rows[0] as { x0: number; y0: number; x1: number; y1: number };
  aoi = { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
  // A many-vertex circle: every feature needs a real GEOS intersection, so jobs take a while
  // and the two-worker pools leave a third job PENDING.
  const [cx, cy, r] = [(x0 + x1) / 2, (y0 + y1) / 2, Math.max(x1 - x0, y1 - y0)];
  const ring = Array.from({ length: 8000 }, (_, i) => [cx + r * Math.cos((2 * Math.PI * i) / 8000), cy + r * Math.sin((2 * Math.PI * i) / 8000)]);
  ring.push(ring[0]!);
  slowAoi = { type: 'Polygon', coordinates: [ring] };
}, 120_000);

afterAll(async () => {
  await sides?.stop();
});

function submit(base: string, body: Record<string, unknown> = {}): Promise<Answer> {
  return ask(`${base}${prefix}/run`, { body: { county_id: 'test_county', format: 'GeoJSON', username: 'interop', area_of_interest: aoi, layers: ['parcels', 'roads'], ...body } });
}

const terminal = (base: string, id: string) =>
  until(() => ask(`${base}${prefix}/status/${id}`), (a) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(a.json?.status), 60_000);

describe('legacy and reimplemented sync on one database', () => {
  for (const [creator, reader] of [['legacy', 'reimpl'], ['reimpl', 'legacy']] as const) {
    it(`lets ${reader} read, list and download a GIS export job ${creator} created and ran`, async () => {
      const [from, to] = creator === 'legacy' ? [sides.legacyUrl, sides.reimplUrl] : [sides.reimplUrl, sides.legacyUrl];
      const created = await submit(from);
      expect(created.status).toBe(200);
      const id = created.json.job_id as string;
      const done = await terminal(from, id);
      expect(done.json.status).toBe('COMPLETED');

      for (const route of ['status', 'results']) {
        const mine = await ask(`${from}${prefix}/${route}/${id}`);
        const theirs = await ask(`${to}${prefix}/${route}/${id}`);
        expect(theirs.status).toBe(200);
        expect(theirs.text).toBe(mine.text);
      }
      const listed = await ask(`${to}${prefix}/list?county_id=test_county&limit=1000`);
      expect(listed.json.map((job: { job_id: string }) => job.job_id)).toContain(id);
      const mineFile = await ask(`${from}${prefix}/download/${id}`);
      const theirFile = await ask(`${to}${prefix}/download/${id}`);
      expect(theirFile.status).toBe(200);
      expect(theirFile.bytes.equals(mineFile.bytes)).toBe(true);
      expect(Math.ceil(theirFile.bytes.length / 1024)).toBe((await ask(`${to}${prefix}/results/${id}`)).json.result.file_size_kb);
    });

    it(`lets ${reader} cancel a PENDING job ${creator} created, and ${creator}'s workers skip it`, async () => {
      const [from, to] = creator === 'legacy' ? [sides.legacyUrl, sides.reimplUrl] : [sides.reimplUrl, sides.legacyUrl];
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await submit(from, { format: 'KML', layers: ['parcels', 'zoning', 'roads'], area_of_interest: slowAoi })).json.job_id);
      const last = ids[2]!;
      const cancel = await ask(`${to}${prefix}/cancel/${last}`, { method: 'POST' });
      expect(cancel.status).toBe(200);
      expect(cancel.json).toMatchObject({ job_id: last, status: 'CANCELLED', message: 'Job cancelled before processing started', started_at: null });
      for (const id of ids.slice(0, 2)) await terminal(from, id);
      expect((await ask(`${from}${prefix}/status/${last}`)).json).toMatchObject({ status: 'CANCELLED', started_at: null });
    }, 120_000);
  }

  it('answers the read routes with the same bytes as legacy', async () => {
    for (const path of [
      '/counties', '/counties/test_county', '/properties?county_id=test_county&limit=50', '/properties?property_type=commercial&offset=3',
      '/properties?limit=0', `${prefix}/list?county_id=test_county`, `${prefix}/list?limit=1001`, `${prefix}/formats/test_county`,
      `${prefix}/defaults/test_county`, '/nowhere',
    ]) {
      const [legacy, reimpl] = await Promise.all([ask(sides.legacyUrl + path), ask(sides.reimplUrl + path)]);
      expect(`${path} ${reimpl.status} ${reimpl.text}`).toBe(`${path} ${legacy.status} ${legacy.text}`);
    }
  });

  it('lets each side read the other side\'s report, analysis and valuation jobs unchanged', async () => {
    const runs: Array<[string, unknown]> = [
      ['/plugins/v1/reporting', { report_type: 'roll', county_id: 'test_county', parameters: { year: 2025, scale: 1.0 } }],
      ['/plugins/v1/market-analysis', { analysis_type: 'sales_ratio_study', county_id: 'test_county' }],
      ['/plugins/v1/market-analysis', { analysis_type: 'price_trend_by_zip', county_id: 'test_county' }],
    ];
    for (const [plugin, body] of runs) {
      for (const [from, to] of [[sides.legacyUrl, sides.reimplUrl], [sides.reimplUrl, sides.legacyUrl]] as const) {
        const run = await ask(`${from}${plugin}/run`, { body });
        expect(run.status).toBe(202);
        const id = run.json.report_id ?? run.json.job_id;
        for (const route of ['status', 'results']) {
          const mine = await ask(`${from}${plugin}/${route}/${id}`);
          const theirs = await ask(`${to}${plugin}/${route}/${id}`);
          expect(theirs.text).toBe(mine.text);
        }
      }
    }
  });

  it('computes the same market studies as legacy, apart from ids and timestamps', async () => {
    for (const type of ['sales_ratio_study', 'price_trend_by_zip', 'comparable_market_area']) {
      const body = { analysis_type: type, county_id: 'test_county' };
      const [legacy, reimpl] = await Promise.all([ask(`${sides.legacyUrl}/plugins/v1/market-analysis/run`, { body }), ask(`${sides.reimplUrl}/plugins/v1/market-analysis/run`, { body })]);
      // Compared as text: Python's 1.0 vs 1 must match too.
      const result = async (base: string, id: string) => {
        const text = (await ask(`${base}/plugins/v1/market-analysis/results/${id}`)).text;
        return text.slice(text.indexOf('"result":'));
      };
      expect(await result(sides.reimplUrl, reimpl.json.job_id)).toBe(await result(sides.legacyUrl, legacy.json.job_id));
    }
  });
});

describe('the export itself', () => {
  it('writes the same features, and files of the same size, as legacy in every format', async () => {
    const outcomes: string[] = [];
    for (const format of ['GeoJSON', 'Shapefile', 'KML', 'GeoPackage', 'CSV']) {
      const body = { format, layers: ['parcels', 'zoning', 'roads'], parameters: { simplify_tolerance: 0.0001, include_attributes: true, coordinate_system: 'EPSG:3857' } };
      const [legacy, reimpl] = await Promise.all([submit(sides.legacyUrl, body), submit(sides.reimplUrl, body)]);
      const [legacyDone, reimplDone] = await Promise.all([terminal(sides.legacyUrl, legacy.json.job_id), terminal(sides.reimplUrl, reimpl.json.job_id)]);
      expect(reimplDone.json.status).toBe('COMPLETED');
      expect(legacyDone.json.status).toBe('COMPLETED');
      const result = async (base: string, id: string) => (await ask(`${base}${prefix}/results/${id}`)).json.result;
      const [l, r] = await Promise.all([result(sides.legacyUrl, legacy.json.job_id), result(sides.reimplUrl, reimpl.json.job_id)]);
      outcomes.push(`${format}: ${r.record_count} records`);
      expect(r.record_count, format).toBe(l.record_count);
      // Same driver, fields and geometry give the same bytes; only the zip's deflate differs
      // (Node bundles Chromium's zlib, whose level 1 compresses differently from Debian's).
      const slack = format === 'Shapefile' ? l.file_size_kb * 0.1 : 1;
      expect(Math.abs(r.file_size_kb - l.file_size_kb), `${format} ${r.file_size_kb} vs ${l.file_size_kb} KiB`).toBeLessThanOrEqual(slack);
    }
    expect(outcomes).toHaveLength(5);
  }, 120_000);

  it('writes byte-identical GeoJSON, CSV and KML files, Shapefile zips holding byte-identical files, and GeoPackages GDAL reads as legacy\'s, with the TypeScript writers (EPSG:4326, rectangular area)', async () => {
    const boundary = aoi as { coordinates: number[][][] };
    // Shrunk so that boundary features go through GDAL's clip, the rest through the TypeScript path.
    const [[x0, y0], , [x1, y1]] = boundary.coordinates[0]! as [[number, number], unknown, [number, number]];
    const inner = { type: 'Polygon', coordinates: [[[x0 + 0.001, y0 + 0.001], [x1 - 0.001, y0 + 0.001], [x1 - 0.001, y1 - 0.001], [x0 + 0.001, y1 - 0.001], [x0 + 0.001, y0 + 0.001]]] };
    for (const area of [aoi, inner]) {
      for (const format of ['GeoJSON', 'CSV', 'Shapefile', 'KML', 'GeoPackage']) {
        const body = { format, layers: ['parcels', 'zoning', 'roads'], area_of_interest: area };
        const [legacy, reimpl] = await Promise.all([submit(sides.legacyUrl, body), submit(sides.reimplUrl, body)]);
        const [legacyDone, reimplDone] = await Promise.all([terminal(sides.legacyUrl, legacy.json.job_id), terminal(sides.reimplUrl, reimpl.json.job_id)]);
        expect([legacyDone.json.status, reimplDone.json.status]).toEqual(['COMPLETED', 'COMPLETED']);
        const [l, r] = await Promise.all([ask(`${sides.legacyUrl}${prefix}/download/${legacy.json.job_id}`), ask(`${sides.reimplUrl}${prefix}/download/${reimpl.json.job_id}`)]);
        expect(r.bytes.length, format).toBeGreaterThan(1000);
        if (format === 'Shapefile') {
          // The zips' deflate differs (Node's zlib, 0004); every file in them must not.
          const [legacyFiles, reimplFiles] = [zipEntries(l.bytes), zipEntries(r.bytes)];
          expect([...reimplFiles.keys()]).toEqual([...legacyFiles.keys()]);
          for (const [name, bytes] of legacyFiles) expect(reimplFiles.get(name)!.equals(bytes), name).toBe(true);
        } else if (format === 'GeoPackage') {
          // SQLite's pages and last_change differ; every layer, field, value and geometry must not.
          const exchange = (bytes: Buffer) => ({ status: 200, headers: {}, body: bytes });
          expect(await compareExportFiles(exchange(l.bytes), exchange(r.bytes), { epsilon: 0, ignoreFields: [] })).toEqual([]);
          expect(geoPackageMetadata(r.bytes)).toEqual(geoPackageMetadata(l.bytes));
        } else {
          expect(r.text, format).toBe(l.text);
        }
      }
    }
  }, 120_000);
});
