/**
 * The GeoPackage export written by TypeScript through one SQLite connection (better-sqlite3),
 * without GDAL for the common case (EPSG:4326, rectangular area of interest). Reproduces what
 * legacy terrafusion_sync/gis/writers.py GeoPackageSink gets from GDAL 3.6's GPKG driver, by
 * content: one table per layer, geometries promoted to multi as ogr.ForceToMulti* does, stored
 * as GeoPackage binary (GP header, XY envelope, little-endian WKB), the metadata tables and
 * triggers GDAL writes (geopackage-schema.ts), an rtree per table, gpkg_contents' extent and
 * gpkg_ogr_contents' count (both NULL for a layer without features, as GDAL leaves them).
 * Rows go in through prepared statements in one transaction, a batch at a time.
 * Not byte-identical: SQLite's page layout, last_change and the rtree's node order differ;
 * parity/compare/file.ts compares GeoPackages by what GDAL reads from them
 * (docs/decisions/0031-gis-export-kml-geopackage-writers-and-memory.md).
 */
import Database from 'better-sqlite3';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveLayers, type LayerSource } from './formats.js';
import type { BoundaryShaping } from './boundary-shaping.js';
import { ogrRealAsInteger, sqlite340Printf18g } from './gdal-number-text.js';
import {
  EXTENSIONS_DDL, featureTableDdl, featureTableTriggers, GPKG_APPLICATION_ID, GPKG_USER_VERSION, METADATA_DDL, rtreeDdl, SPATIAL_REF_SYS, WGS84_SRS_ID,
} from './geopackage-schema.js';
import type { ExportRequest, ExportResult } from './run-export.js';
import { FastPathUnavailable, includeAttributesOf, jobDirectory, shapeFeatures, type Cell, type Shaped } from './text-export.js';

function fail(): never {
  throw new FastPathUnavailable();
}

type Ring = readonly (readonly number[])[];

/** The parts of a geometry as the layer's multi type holds them (polygons: rings; lines: points). */
function multiParts(geometry: Shaped, polygonal: boolean): readonly unknown[] {
  switch (geometry.type) {
    case 'Polygon':
      return polygonal ? [geometry.coordinates] : fail();
    case 'MultiPolygon':
      return polygonal ? geometry.coordinates : fail();
    case 'LineString':
      return polygonal ? fail() : [geometry.coordinates];
    case 'MultiLineString':
      return polygonal ? fail() : geometry.coordinates;
    default:
      return fail();
  }
}

/**
 * GeoPackage binary of a multi geometry: 'GP', version 0, flags (little-endian, XY envelope),
 * srs_id, envelope minx maxx miny maxy, then WKB. Returns the blob and its envelope.
 */
export function geoPackageGeometry(parts: readonly unknown[], polygonal: boolean): { blob: Buffer; envelope: [number, number, number, number] } {
  let points = 0;
  let rings = 0;
  for (const part of parts) {
    if (polygonal) {
      for (const ring of part as Ring[]) {
        rings++;
        points += ring.length;
      }
    } else {
      points += (part as Ring).length;
    }
  }
  // header 8 + envelope 32, multi 9, per part 9 (+4 per ring for polygons), 16 per point
  const size = 40 + 9 + parts.length * 9 + (polygonal ? rings * 4 : 0) + points * 16;
  const blob = Buffer.allocUnsafe(size);
  blob.write('GP', 0, 'latin1');
  blob[2] = 0;
  blob[3] = 0b0000_0011;
  blob.writeInt32LE(WGS84_SRS_ID, 4);
  let minx = Infinity;
  let maxx = -Infinity;
  let miny = Infinity;
  let maxy = -Infinity;
  let at = 40;
  const header = (type: number, count: number) => {
    blob[at] = 1;
    blob.writeUInt32LE(type, at + 1);
    blob.writeUInt32LE(count, at + 5);
    at += 9;
  };
  const line = (ring: Ring) => {
    for (const point of ring) {
      if (point.length !== 2) fail();
      const x = point[0]!;
      const y = point[1]!;
      if (x < minx) minx = x;
      if (x > maxx) maxx = x;
      if (y < miny) miny = y;
      if (y > maxy) maxy = y;
      blob.writeDoubleLE(x, at);
      blob.writeDoubleLE(y, at + 8);
      at += 16;
    }
  };
  header(polygonal ? 6 : 5, parts.length);
  for (const part of parts) {
    if (polygonal) {
      const partRings = part as Ring[];
      header(3, partRings.length);
      for (const ring of partRings) {
        blob.writeUInt32LE(ring.length, at);
        at += 4;
        line(ring);
      }
    } else {
      header(2, (part as Ring).length);
      line(part as Ring);
    }
  }
  if (points === 0) fail();
  blob.writeDoubleLE(minx, 8);
  blob.writeDoubleLE(maxx, 16);
  blob.writeDoubleLE(miny, 24);
  blob.writeDoubleLE(maxy, 32);
  return { blob, envelope: [minx, miny, maxx, maxy] };
}

/** One feature table being filled. */
class GeoPackageTable {
  readonly polygonal: boolean;
  private readonly insert: Database.Statement;
  private readonly index: Database.Statement;
  private readonly kinds: LayerSource['fields'][number]['kind'][];
  readonly extent: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  count = 0;

  constructor(db: Database.Database, readonly source: LayerSource, includeAttributes: boolean) {
    const fields = includeAttributes ? source.fields : [];
    this.kinds = fields.map((f) => f.kind);
    this.polygonal = source.dimension === 2;
    const geometryType = this.polygonal ? 'MULTIPOLYGON' : 'MULTILINESTRING';
    const table = source.name;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table) || fields.some((f) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name))) fail();
    db.prepare(featureTableDdl(table, geometryType, fields)).run();
    db.prepare("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES (?, 'features', ?, '', strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?)").run(table, table, WGS84_SRS_ID);
    db.prepare("INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES (?, 'geom', ?, ?, 0, 0)").run(table, geometryType, WGS84_SRS_ID);
    db.prepare('INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, NULL)').run(table);
    db.prepare(rtreeDdl(table)).run();
    db.prepare("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')").run(table);
    const columns = ['geom', ...fields.map((f) => f.name)];
    this.insert = db.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    this.index = db.prepare(`INSERT INTO "rtree_${table}_geom" VALUES (?, ?, ?, ?, ?)`);
  }

  write(row: readonly Cell[], geometry: Shaped): void {
    const { blob, envelope } = geoPackageGeometry(multiParts(geometry, this.polygonal), this.polygonal);
    const values: (Buffer | string | number | null)[] = [blob];
    for (let i = 0; i < this.kinds.length; i++) {
      const value = row[i];
      if (value === null || value === undefined) values.push(null);
      else if (this.kinds[i] === 'integer') values.push(typeof value === 'number' ? (ogrRealAsInteger(value) ?? fail()) : fail());
      else if (this.kinds[i] === 'real') values.push(typeof value === 'number' ? value : fail());
      else values.push(typeof value === 'string' ? value : fail());
    }
    const fid = this.insert.run(values).lastInsertRowid;
    this.index.run(fid, envelope[0], envelope[2], envelope[1], envelope[3]);
    this.count++;
    const extent = this.extent;
    if (envelope[0] < extent[0]) extent[0] = envelope[0];
    if (envelope[1] < extent[1]) extent[1] = envelope[1];
    if (envelope[2] > extent[2]) extent[2] = envelope[2];
    if (envelope[3] > extent[3]) extent[3] = envelope[3];
  }

  finish(db: Database.Database): void {
    const table = this.source.name;
    if (this.count > 0) {
      const [minx, miny, maxx, maxy] = this.extent.map(sqlite340Printf18g);
      db.prepare('UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?').run(minx, miny, maxx, maxy, table);
      db.prepare('UPDATE gpkg_ogr_contents SET feature_count = ? WHERE table_name = ?').run(this.count, table);
    }
    for (const trigger of featureTableTriggers(table)) db.prepare(trigger).run();
  }
}

/** Writes the GeoPackage of a job; throws FastPathUnavailable when GDAL must do it. */
export async function runGeoPackageExport(request: ExportRequest, isCancelled: () => boolean, shaping: BoundaryShaping): Promise<ExportResult | 'cancelled'> {
  const sources = resolveLayers(request.layers);
  const includeAttributes = includeAttributesOf(request.parameters);
  const directory = jobDirectory(request);
  const path = join(directory, `${request.countyId}_gis_export.gpkg`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    const open = db;
    open.pragma(`application_id = ${GPKG_APPLICATION_ID}`);
    open.pragma(`user_version = ${GPKG_USER_VERSION}`);
    // A fresh file that nobody reads until it is complete: no journal, no fsync per commit.
    open.pragma('journal_mode = OFF');
    open.pragma('synchronous = OFF');
    open.exec('BEGIN');
    for (const ddl of METADATA_DDL) open.prepare(ddl).run();
    const srs = open.prepare('INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)');
    for (const row of SPATIAL_REF_SYS) srs.run(...row);
    const tables: GeoPackageTable[] = [];
    let current: GeoPackageTable | undefined;
    const count = await shapeFeatures(request, sources, {
      layer(source) {
        if (tables.length === 0) open.prepare(EXTENSIONS_DDL).run();
        current = new GeoPackageTable(open, source, includeAttributes);
        tables.push(current);
      },
      feature(_source, row, geometry) {
        current!.write(row, geometry);
        return true;
      },
      async flush() {
        // Rows went in synchronously; the next batch is fetched only now (backpressure).
      },
    }, isCancelled, shaping);
    if (count === 'cancelled') {
      open.exec('ROLLBACK');
      open.close();
      db = undefined;
      rmSync(directory, { recursive: true, force: true });
      return 'cancelled';
    }
    for (const table of tables) table.finish(open);
    open.exec('COMMIT');
    open.close();
    db = undefined;
    return { path, fileSizeKb: Math.ceil(statSync(path).size / 1024), recordCount: count };
  } catch (error) {
    db?.close();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}
