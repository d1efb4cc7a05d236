/**
 * The GeoJSON and CSV exports written by TypeScript straight from the PostgreSQL rows, in the
 * HTTP process, without GDAL for the common case: EPSG:4326 output, a rectangular area of
 * interest and features inside it. Reproduces what legacy terrafusion_sync/gis/export.py and
 * writers.py (GDAL 3.6's GeoJSON and CSV drivers) write, byte for byte: one combined layer,
 * `layer` first, union of the fields in order, unset fields omitted, GDAL's number text.
 * Boundary features and simplifications GEOS might refuse are shaped by GDAL (loaded on first
 * need); anything the writers cannot reproduce with certainty throws FastPathUnavailable and
 * the job runs in the GDAL export worker instead. Rows come in small batches so the event
 * loop is free between them (docs/decisions/0009-gis-export-speed.md).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveLayers, type FieldSpec, type LayerSource } from './formats.js';
import { exportClient, streamRows } from './layer-rows.js';
import { geoJsonCoordinate, geoJsonReal, ogrRealText, wktCoordinate } from './gdal-number-text.js';
import type { ExportRequest, ExportResult } from './run-export.js';
import { simplifyLine, type Point } from './simplify.js';
import type { BoundaryFeature, BoundaryShaper, BoundaryShaping } from './boundary-shaping.js';

/** The job needs the GDAL worker; nothing it wrote is kept. */
export class FastPathUnavailable extends Error {}

// Rows of a batch live until it is written: 250 (~0.4 MB) stay within a 1 MiB semi-space; 1,000 were promoted.
const BATCH_SIZE = 250;
// Shapefile, KML and GeoPackage: shapefile-export.ts, kml-export.ts, geopackage-export.ts, on the same rows and shaping.
export const TEXT_FORMATS: ReadonlySet<string> = new Set(['GeoJSON', 'CSV', 'Shapefile', 'KML', 'GeoPackage']);

type Rect = readonly [number, number, number, number];
type Coordinates = unknown[];
export interface Shaped {
  type: string;
  coordinates: Coordinates;
}

/** The bbox of a GeoJSON Polygon that is exactly an axis-aligned rectangle, else undefined. */
export function rectangleOf(aoi: unknown): Rect | undefined {
  const object = aoi as { type?: unknown; coordinates?: unknown } | null;
  if (!object || object.type !== 'Polygon' || !Array.isArray(object.coordinates) || object.coordinates.length !== 1) return undefined;
  const ring = object.coordinates[0] as unknown[];
  if (!Array.isArray(ring) || ring.length !== 5) return undefined;
  const points = ring as number[][];
  if (!points.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v)))) return undefined;
  if (points[0]![0] !== points[4]![0] || points[0]![1] !== points[4]![1]) return undefined;
  const xs = points.map((p) => p[0]!);
  const ys = points.map((p) => p[1]!);
  const rect: Rect = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  if (!(rect[0] < rect[2] && rect[1] < rect[3])) return undefined;
  const corners = new Set(points.slice(0, 4).map(([x, y]) => `${x === rect[0] ? 0 : x === rect[2] ? 1 : 9},${y === rect[1] ? 0 : y === rect[3] ? 1 : 9}`));
  if (corners.size !== 4 || [...corners].some((c) => c.includes('9'))) return undefined;
  // Consecutive corners must share an edge (no bow-tie).
  for (let i = 0; i < 4; i++) if (points[i]![0] !== points[i + 1]![0] && points[i]![1] !== points[i + 1]![1]) return undefined;
  return rect;
}

/** True when the job can be written by the TypeScript writers (else: the GDAL worker). */
export function textFastPathApplies(format: string, areaOfInterest: unknown, parameters: Record<string, unknown>): boolean {
  const crs = parameters.coordinate_system;
  return TEXT_FORMATS.has(format) && (crs === undefined || crs === 'EPSG:4326') && rectangleOf(areaOfInterest) !== undefined;
}

function fail(): never {
  throw new FastPathUnavailable();
}

function num(text: string | undefined): string {
  return text ?? fail();
}

// json-c's string escaping as GDAL's GeoJSON driver uses it ('/' left alone).
function jsonString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/["\\\u0000-\u001f]/.test(value)) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// CSV driver, STRING_QUOTING=IF_AMBIGUOUS: quoted when it needs escaping or reads as a number.
function csvString(value: string): string {
  if (value === '' || /[;\t]|^\s|\s$|^[+-]?(inf|nan|0x)/i.test(value)) fail();
  if (/[",\n\r]/.test(value) || NUMERIC.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

// Strings built by concatenation, not map/join: a feature's arrays would be garbage at once.
function geoJsonCoords(c: Coordinates): string {
  if (!Array.isArray(c[0])) {
    if (c.length !== 2) fail();
    return `[ ${num(geoJsonCoordinate(c[0] as number))}, ${num(geoJsonCoordinate(c[1] as number))} ]`;
  }
  let out = '[ ';
  for (let i = 0; i < c.length; i++) out += (i > 0 ? ', ' : '') + geoJsonCoords(c[i] as Coordinates);
  return `${out} ]`;
}

function wktCoords(c: Coordinates): string {
  if (!Array.isArray(c[0])) {
    if (c.length !== 2) fail();
    return `${num(wktCoordinate(c[0] as number))} ${num(wktCoordinate(c[1] as number))}`;
  }
  let out = '(';
  for (let i = 0; i < c.length; i++) out += (i > 0 ? ',' : '') + wktCoords(c[i] as Coordinates);
  return `${out})`;
}

const WKT_NAME: Record<string, string> = { Polygon: 'POLYGON', MultiPolygon: 'MULTIPOLYGON', LineString: 'LINESTRING', MultiLineString: 'MULTILINESTRING', Point: 'POINT', MultiPoint: 'MULTIPOINT' };

export type Cell = string | number | null;

interface TextWriter {
  header(layerName: string, union: readonly FieldSpec[]): string;
  feature(layer: string, union: readonly FieldSpec[], values: readonly (Cell | undefined)[], geometry: Shaped): string;
  footer(count: number): string;
}

// `, "name": ` of each union field, escaped once per export rather than once per feature.
const keysOf = new WeakMap<readonly FieldSpec[], string[]>();
function propertyKeys(union: readonly FieldSpec[]): string[] {
  let keys = keysOf.get(union);
  if (!keys) keysOf.set(union, (keys = union.map((field) => `, ${jsonString(field.name)}: `)));
  return keys;
}

const geoJsonWriter: TextWriter = {
  header: (name) =>
    `{\n"type": "FeatureCollection",\n"name": ${jsonString(name)},\n"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },\n"features": [\n`,
  feature(layer, union, values, geometry) {
    let props = `"layer": ${jsonString(layer)}`;
    const keys = propertyKeys(union);
    for (let i = 1; i < union.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) continue;
      const kind = union[i]!.kind;
      props += keys[i]! + (kind === 'real' ? num(geoJsonReal(value as number)) : kind === 'integer' ? String(value) : jsonString(String(value)));
    }
    return `{ "type": "Feature", "properties": { ${props} }, "geometry": { "type": "${geometry.type}", "coordinates": ${geoJsonCoords(geometry.coordinates)} } }`;
  },
  footer: () => '\n]\n}\n',
};

const csvWriter: TextWriter = {
  header: (_name, union) => `WKT,${union.map((f) => csvString(f.name)).join(',')}\n`,
  feature(layer, union, values, geometry) {
    let line = `"${WKT_NAME[geometry.type] ?? fail()} ${wktCoords(geometry.coordinates)}",${csvString(layer)}`;
    for (let i = 1; i < union.length; i++) {
      const value = values[i];
      line += ',';
      if (value === null || value === undefined) continue;
      const kind = union[i]!.kind;
      line += kind === 'real' ? num(ogrRealText(value as number)) : kind === 'integer' ? `"${value}"` : csvString(String(value));
    }
    return `${line}\n`;
  },
  footer: () => '',
};

const isPoint = (p: unknown): p is Point => Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number';
const isLine = (l: unknown, min: number): l is Point[] => Array.isArray(l) && l.length >= min && l.every(isPoint);

/**
 * The exported geometry of a feature whose bbox lies inside the area of interest, shaped in
 * TypeScript exactly as legacy's GDAL calls would (keep, SimplifyPreserveTopology), or
 * undefined when GDAL must decide.
 */
function shapeInside(text: string, tolerance: number): Shaped | undefined {
  let parsed: { type?: unknown; coordinates?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  const { type, coordinates } = parsed ?? {};
  let rings: Point[][];
  if (type === 'Polygon' && Array.isArray(coordinates) && coordinates.length >= 1 && coordinates.every((r) => isLine(r, 4))) rings = coordinates as Point[][];
  else if (type === 'LineString' && isLine(coordinates, 2)) rings = [coordinates];
  else if (type === 'MultiPolygon' && Array.isArray(coordinates) && coordinates.length >= 1 && coordinates.every((p) => Array.isArray(p) && p.length >= 1 && p.every((r) => isLine(r, 4)))) rings = (coordinates as Point[][][]).flat();
  else return undefined;
  if (rings.some((r) => type !== 'LineString' && (r[0]![0] !== r[r.length - 1]![0] || r[0]![1] !== r[r.length - 1]![1]))) return undefined;
  if (tolerance <= 0) return { type, coordinates } as Shaped;
  const ring = type !== 'LineString';
  if (type === 'LineString') {
    const simplified = simplifyLine(rings[0]!, tolerance, false);
    return simplified && ({ type, coordinates: simplified } as Shaped);
  }
  // Several rings, simplified in order as GEOS does; each new segment must be clear of the
  // other rings' input segments and of the rings already simplified.
  const results: Point[][] = [];
  for (let r = 0; r < rings.length; r++) {
    const others = [...rings.slice(0, r), ...rings.slice(r + 1), ...results];
    const simplified = simplifyLine(rings[r]!, tolerance, ring, others);
    if (!simplified) return undefined;
    results.push(simplified);
  }
  if (type === 'Polygon') return { type, coordinates: results } as Shaped;
  let at = 0;
  return { type, coordinates: (coordinates as Point[][][]).map((polygon) => polygon.map(() => results[at++]!)) } as Shaped;
}

/** Where the shaped features of a job go: one call per layer, then one per feature. */
export interface FeatureSink {
  layer(source: LayerSource): void;
  /** Writes one feature (row columns as selected for `source`); false when it was not written. */
  feature(source: LayerSource, row: readonly Cell[], geometry: Shaped): boolean;
  /** Lets the sink write out what one batch of rows produced. */
  flush(): Promise<void>;
}

export const includeAttributesOf = (parameters: Record<string, unknown>): boolean => {
  const include = parameters.include_attributes;
  return include === undefined ? true : Boolean(include) && !(typeof include === 'object' && Object.keys(include as object).length === 0);
};

/**
 * Streams the layers of a job (EPSG:4326, rectangular area), shapes every feature as legacy's
 * FeatureShaper would (TypeScript inside the rectangle, GDAL across its edge) and hands it to
 * `sink`; resolves to the count written, or 'cancelled'.
 */
export async function shapeFeatures(
  request: ExportRequest,
  sources: readonly LayerSource[],
  sink: FeatureSink,
  isCancelled: () => boolean,
  shaping: BoundaryShaping,
): Promise<number | 'cancelled'> {
  const rect = rectangleOf(request.areaOfInterest) ?? fail();
  // Only a plain number takes the fast path; anything Python's float() must read goes to runExport.
  const given = request.parameters.simplify_tolerance;
  if (given !== undefined && given !== null && typeof given !== 'number') fail();
  const tolerance = Number(given ?? 0);
  if (!Number.isFinite(tolerance)) fail();
  const client = exportClient(request.databaseUrl, request.schema);
  let boundary: BoundaryShaper | undefined;
  try {
    await client.connect();
    let count = 0;
    for (const source of sources) {
      sink.layer(source);
      const at = source.fields.length;
      for await (const batch of streamRows(client, source, request.countyId, rect, BATCH_SIZE)) {
        if (isCancelled()) return 'cancelled';
        // Features inside the rectangle are shaped here; those across its edge go to GDAL as one
        // batch, order kept. Until the first such feature each one is written as soon as it is
        // shaped and its row let go, so a feature's objects die young (they would otherwise
        // outlive several 1 MiB scavenges and be promoted, batch after batch).
        const rows = batch as (Cell[] | undefined)[];
        let held: (Shaped | null | undefined)[] | undefined;
        const crossing: number[] = [];
        const features: BoundaryFeature[] = [];
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          const text = row[at] as string;
          const minx = row[at + 1] as number | null;
          const miny = row[at + 2] as number;
          const maxx = row[at + 3] as number;
          const maxy = row[at + 4] as number;
          const inside = minx !== null && minx >= rect[0] && maxx <= rect[2] && miny >= rect[1] && maxy <= rect[3];
          const geometry = inside ? shapeInside(text, tolerance) : undefined;
          if (geometry === undefined) {
            held ??= new Array<Shaped | null | undefined>(rows.length);
            crossing.push(i);
            features.push({ text, dimension: source.dimension, bbox: [minx!, miny, maxx, maxy] });
          } else if (held) {
            held[i] = geometry;
          } else {
            if (sink.feature(source, row, geometry)) count++;
            rows[i] = undefined;
          }
        }
        if (held) {
          boundary ??= shaping(request.areaOfInterest, tolerance);
          const results = await boundary.shapeMany(features);
          for (let k = 0; k < crossing.length; k++) held[crossing[k]!] = results[k]!;
          for (let i = crossing[0]!; i < rows.length; i++) {
            const geometry = held[i];
            if (geometry && sink.feature(source, rows[i]!, geometry)) count++;
          }
        }
        await sink.flush();
      }
    }
    return count;
  } finally {
    await client.end();
  }
}

/** A fresh EXPORT_DIR/<job_id>/ for the job's files. */
export function jobDirectory(request: ExportRequest): string {
  const directory = join(request.exportDir, request.jobId);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  return directory;
}

/**
 * A batch's text, encoded as it is emitted into a reused buffer: each feature's string dies
 * young instead of staying live in a batch-long rope until the write, which the 1 MiB
 * semi-space of the export processes (config reimpl.exportHeap) would promote to the old
 * generation a batch at a time.
 */
class EncodedText {
  private full: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(1 << 20);
  private at = 0;

  append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.buffer.length - this.at < text.length * 3) {
      if (this.at > 0) this.full.push(this.buffer.subarray(0, this.at));
      this.buffer = Buffer.allocUnsafe(Math.max(1 << 20, text.length * 3));
      this.at = 0;
    }
    this.at += this.buffer.write(text, this.at);
  }

  /** Writes what was appended; the buffer is reused once the write is done. */
  async writeTo(file: FileHandle): Promise<void> {
    for (const chunk of this.full) await file.write(chunk);
    this.full = [];
    if (this.at > 0) await file.write(this.buffer.subarray(0, this.at));
    this.at = 0;
  }
}

/** What a streamed text file is made of: its opening, a sink that emits each feature's text, its closing. */
export interface TextFileParts {
  header: string;
  sink: Omit<FeatureSink, 'flush'>;
  footer(count: number): string;
}

/**
 * Streams a text export to EXPORT_DIR/<job_id>/<county>_gis_export.<extension>: the header,
 * each batch's text written before the next batch is fetched, the footer; the directory is
 * removed when the job is cancelled or fails.
 */
export async function streamTextFile(
  request: ExportRequest,
  sources: readonly LayerSource[],
  extension: string,
  isCancelled: () => boolean,
  shaping: BoundaryShaping,
  make: (emit: (text: string) => void) => TextFileParts,
): Promise<ExportResult | 'cancelled'> {
  const directory = jobDirectory(request);
  const path = join(directory, `${request.countyId}_gis_export.${extension}`);
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'w');
    const out = file;
    const text = new EncodedText();
    const parts = make((piece) => text.append(piece));
    await out.write(parts.header);
    const count = await shapeFeatures(request, sources, {
      ...parts.sink,
      flush: () => text.writeTo(out),
    }, isCancelled, shaping);
    if (count === 'cancelled') {
      await file.close();
      file = undefined;
      rmSync(directory, { recursive: true, force: true });
      return 'cancelled';
    }
    text.append(parts.footer(count));
    await text.writeTo(file);
    await file.close();
    file = undefined;
    return { path, fileSizeKb: Math.ceil(statSync(path).size / 1024), recordCount: count };
  } catch (error) {
    await file?.close();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the GeoJSON or CSV file of a job; throws FastPathUnavailable when GDAL must do it. */
export async function runTextExport(request: ExportRequest, isCancelled: () => boolean, shaping: BoundaryShaping): Promise<ExportResult | 'cancelled'> {
  const sources = resolveLayers(request.layers);
  const includeAttributes = includeAttributesOf(request.parameters);
  const writer = request.format === 'CSV' ? csvWriter : geoJsonWriter;
  const extension = request.format === 'CSV' ? 'csv' : 'geojson';

  const union: FieldSpec[] = [{ name: 'layer', kind: 'string', sql: '' }];
  if (includeAttributes) for (const s of sources) for (const f of s.fields) if (!union.some((u) => u.name === f.name)) union.push(f);

  return streamTextFile(request, sources, extension, isCancelled, shaping, (emit) => {
    const values: (Cell | undefined)[] = new Array(union.length);
    // Row column of each union field (-1: not in this layer, or attributes excluded).
    let columnOf: number[] = [];
    let written = 0;
    return {
      header: writer.header(sources.length === 1 ? sources[0]!.name : 'export', union),
      sink: {
        layer(source) {
          columnOf = union.map((u) => (includeAttributes ? source.fields.findIndex((f) => f.name === u.name) : -1));
        },
        feature(source, row, geometry) {
          for (let i = 1; i < union.length; i++) values[i] = columnOf[i]! >= 0 ? row[columnOf[i]!] : undefined;
          emit((written > 0 && writer === geoJsonWriter ? ',\n' : '') + writer.feature(source.name, union, values, geometry));
          written++;
          return true;
        },
      },
      footer: (count) => writer.footer(count),
    };
  });
}
