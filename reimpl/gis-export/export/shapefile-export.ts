/**
 * The zipped Shapefile export written by TypeScript, without GDAL for the common case
 * (EPSG:4326, rectangular area of interest). Reproduces what legacy
 * terrafusion_sync/gis/writers.py ShapefileSink gets from GDAL 3.6's shapefile driver, byte
 * for byte inside the zip: .shp/.shx (rings rewound as shapelib's SHPRewindObject does: outer
 * clockwise, inner counter-clockwise), .dbf (dBase III, field names laundered to 10
 * characters, String C(80), Real N(24,15), Integer N(9), nulls as `*`, today's date),
 * .prj (ESRI WKT of WGS 84) and .cpg (UTF-8), zipped as legacy zips them (zip.ts).
 * What it cannot reproduce with certainty throws FastPathUnavailable: the job then runs on
 * the GDAL worker (docs/decisions/0010-gis-export-memory-and-formats.md).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveLayers, type FieldSpec, type LayerSource } from './formats.js';
import type { BoundaryShaping } from './boundary-shaping.js';
import type { ExportRequest, ExportResult } from './run-export.js';
import { FastPathUnavailable, includeAttributesOf, jobDirectory, rectangleOf, shapeFeatures, type Cell, type Shaped } from './text-export.js';
import { writeZip } from './zip.js';
import { MemberDeflation, type DeflatedMember } from './member-deflation.js';
import { countRows, exportClient } from './layer-rows.js';

const WGS84_ESRI_WKT =
  'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]';

const SHPT_POLYLINE = 3;
const SHPT_POLYGON = 5;

function fail(): never {
  throw new FastPathUnavailable();
}

interface DbfField {
  name: string;
  kind: FieldSpec['kind'];
  type: 'C' | 'N';
  width: number;
  decimals: number;
}

/** GDAL's laundering of shapefile field names: 10 characters, clashes numbered `_1`, `_2`... */
export function dbfFields(fields: readonly FieldSpec[]): DbfField[] {
  const taken = new Set<string>();
  return fields.map((field) => {
    let name = field.name.slice(0, 10);
    for (let i = 1; taken.has(name.toLowerCase()); i++) name = i < 10 ? `${field.name.slice(0, 8)}_${i}` : `${field.name.slice(0, 7)}_${i}`;
    taken.add(name.toLowerCase());
    if (field.kind === 'real') return { name, kind: field.kind, type: 'N', width: 24, decimals: 15 };
    if (field.kind === 'integer') return { name, kind: field.kind, type: 'N', width: 9, decimals: 0 };
    if (field.kind === 'string') return { name, kind: field.kind, type: 'C', width: 80, decimals: 0 };
    return fail();
  });
}

// printf("%*.*f"): toFixed is exact except on ties, where glibc rounds half to even; a tie at
// 15 decimals needs a value that is a multiple of 2^-16 and not of 2^-15.
function fixed(value: number, width: number, decimals: number): string {
  if (!Number.isFinite(value)) fail();
  if (decimals > 0 && Number.isInteger(value * 65536) && !Number.isInteger(value * 32768)) fail();
  const text = decimals > 0 ? value.toFixed(decimals) : String(Math.trunc(value));
  if (text.length > width || text.includes('e')) fail(); // shapelib would truncate the field
  return text.padStart(width, ' ');
}

/**
 * Bytes appended in place into 256 KiB chunks (a batch's .dbf records: ~230 KB) that are written
 * out and reused, so a record is never a Buffer of its own (each one an ArrayBuffer for the GC
 * to track and free).
 */
const CHUNK_BYTES = 256 << 10;
class ChunkedBytes {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private full: Buffer[] = [];
  at = 0;

  /** The chunk to write `length` bytes into at `at` (a fresh one when the current is too full). */
  reserve(length: number): Buffer {
    if (this.chunk.length - this.at < length) {
      if (this.at > 0) this.full.push(this.chunk.subarray(0, this.at));
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length));
      this.at = 0;
    }
    return this.chunk;
  }

  /** Writes what was appended to `file` (and hands it to `deflation`, which copies it); the chunk is reused after. */
  async writeTo(file: FileHandle, deflation?: MemberDeflation): Promise<void> {
    if (this.at > 0) this.full.push(this.chunk.subarray(0, this.at));
    for (const chunk of this.full) {
      // To the worker first (push copies at once), so its deflate overlaps the write. The write
      // is synchronous: ~0.2 MB into the page cache, cheaper than a thread-pool round trip per batch.
      await deflation?.push(chunk);
      writeSync(file.fd, chunk);
    }
    this.full = [];
    this.at = 0;
  }
}

/**
 * Appends one record (8-byte header, then the shape as SHPCreateObject + SHPRewindObject +
 * SHPWriteObject lay it out) and widens `bounds` by its box; returns the content's length.
 */
function appendShapeRecord(out: ChunkedBytes, recordNumber: number, shapeType: number, parts: number[][][], bounds: number[]): number {
  let points = 0;
  for (const part of parts) points += part.length;
  const length = 44 + 4 * parts.length + 16 * points;
  const buffer = out.reserve(8 + length);
  const record = out.at;
  const content = record + 8;
  buffer.writeInt32BE(recordNumber, record);
  buffer.writeInt32BE(length / 2, record + 4);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  buffer.writeInt32LE(shapeType, content);
  buffer.writeInt32LE(parts.length, content + 36);
  buffer.writeInt32LE(points, content + 40);
  let at = content + 44 + 4 * parts.length;
  let start = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    buffer.writeInt32LE(start, content + 44 + 4 * i);
    start += part.length;
    for (const [x, y] of part) {
      if (x! < minX) minX = x!;
      if (x! > maxX) maxX = x!;
      if (y! < minY) minY = y!;
      if (y! > maxY) maxY = y!;
      buffer.writeDoubleLE(x!, at);
      buffer.writeDoubleLE(y!, at + 8);
      at += 16;
    }
  }
  buffer.writeDoubleLE(minX, content + 4);
  buffer.writeDoubleLE(minY, content + 12);
  buffer.writeDoubleLE(maxX, content + 20);
  buffer.writeDoubleLE(maxY, content + 28);
  // The box as read back from the record (a part without points leaves Infinity there, as written).
  if (minX < bounds[0]!) bounds[0] = minX;
  if (minY < bounds[1]!) bounds[1] = minY;
  if (maxX > bounds[2]!) bounds[2] = maxX;
  if (maxY > bounds[3]!) bounds[3] = maxY;
  out.at = at;
  return length;
}

/** shapelib's SHPRewindIsInnerRing: even-odd count of the other rings' edges right of the point; -1 when ambiguous. */
function isInner(rings: number[][][], self: number, x: number, y: number): number {
  let inner = false;
  for (let r = 0; r < rings.length; r++) {
    if (r === self) continue;
    const ring = rings[r]!;
    for (let e = 0; e < ring.length; e++) {
      const [x0, y0] = ring[e]!;
      const [x1, y1] = ring[e + 1 < ring.length ? e + 1 : 0]!;
      if ((y0! < y && y <= y1!) || (y1! < y && y <= y0!)) {
        const diff = x0! - x + ((y - y0!) / (y1! - y0!)) * (x1! - x0!);
        if (Math.abs(diff) < 1e-8) return -1; // too close to call the way shapelib would: let GDAL decide
        if (diff < 0) inner = !inner;
      }
    }
  }
  return inner ? 1 : 0;
}

/** Outer rings clockwise, inner rings counter-clockwise, as shapelib's SHPRewindObject leaves them. */
function rewind(rings: number[][][]): number[][][] {
  return rings.map((ring, r) => {
    if (ring.length < 2) return ring;
    let inner = 0; // a lone ring is outer: only its orientation matters
    if (rings.length > 1) {
      inner = -1;
      for (let v = 0; v + 1 < ring.length && inner < 0; v++) inner = isInner(rings, r, (ring[v]![0]! + ring[v + 1]![0]!) / 2, (ring[v]![1]! + ring[v + 1]![1]!) / 2);
      if (inner < 0) fail();
    }
    const n = ring.length;
    let sum = ring[0]![0]! * (ring[1]![1]! - ring[n - 1]![1]!);
    let v = 1;
    for (; v < n - 1; v++) sum += ring[v]![0]! * (ring[v + 1]![1]! - ring[v - 1]![1]!);
    sum += ring[v]![0]! * (ring[0]![1]! - ring[v - 1]![1]!);
    return (sum < 0 && inner === 1) || (sum > 0 && inner === 0) ? [...ring].reverse() : ring;
  });
}

function partsOf(geometry: Shaped, polygonal: boolean): number[][][] {
  const c = geometry.coordinates as number[][][] & number[][][][];
  switch (geometry.type) {
    case 'Polygon':
      return polygonal ? rewind(c) : fail();
    case 'MultiPolygon':
      return polygonal ? rewind((c as unknown as number[][][][]).flat()) : fail();
    case 'LineString':
      return polygonal ? fail() : [c as unknown as number[][]];
    case 'MultiLineString':
      return polygonal ? fail() : c;
    default:
      return fail();
  }
}

/** One .shp/.shx/.dbf/.prj/.cpg set, streamed to disk; headers patched on close. */
class ShapefileLayer {
  private shp!: FileHandle;
  private dbf!: FileHandle;
  // One growing buffer: a Buffer per record's 8 index bytes cost ~250 bytes of heap each, kept until close (50 MB at 200k parcels).
  private shx = Buffer.allocUnsafe(8 * 4096);
  private shxLength = 0;
  private readonly shpBytes = new ChunkedBytes();
  private readonly dbfBytes = new ChunkedBytes();
  private shpLength = 100;
  private records = 0;
  private readonly bounds: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  private readonly recordLength: number;

  /** The .dbf deflated as it is written, for the record count and date of `speculatedHeader`. */
  private deflation: MemberDeflation | undefined;
  private speculatedHeader: Buffer | undefined;
  private deflatedPath: string | undefined;

  constructor(private readonly base: string, private readonly shapeType: number, private readonly fields: DbfField[]) {
    this.recordLength = 1 + fields.reduce((n, f) => n + f.width, 0);
  }

  /**
   * Opens the files. With the number of records the layer will get (`expected`: the rows the
   * export will read, known before the first is written), the .dbf's header is known too, and
   * the .dbf is deflated into `deflatedPath` as it is written; a different count at close
   * (a boundary feature the clip dropped), or another day, discards that.
   */
  async open(expected: Promise<number | undefined>, deflatedPath: string): Promise<void> {
    this.shp = await open(`${this.base}.shp`, 'w');
    this.dbf = await open(`${this.base}.dbf`, 'w');
    // Placeholders written in sequence (a positional write would not move the file position);
    // the real headers are written over them on close.
    await this.shp.write(Buffer.alloc(100));
    // The worker starts while the count is still on its way (its start-up is ~30 ms).
    const deflation = MemberDeflation.start(deflatedPath);
    const records = await expected;
    const header = this.dbfHeader(records ?? 0, new Date());
    await this.dbf.write(header);
    if (!records) {
      await deflation?.abandon();
      return;
    }
    this.deflatedPath = deflatedPath;
    this.deflation = deflation;
    this.speculatedHeader = header;
    await this.deflation?.push(header);
  }

  write(row: readonly Cell[], parts: number[][][]): void {
    const length = appendShapeRecord(this.shpBytes, this.records + 1, this.shapeType, parts, this.bounds);
    if (this.shxLength + 8 > this.shx.length) {
      const grown = Buffer.allocUnsafe(this.shx.length * 2);
      this.shx.copy(grown, 0, 0, this.shxLength);
      this.shx = grown;
    }
    this.shx.writeInt32BE(this.shpLength / 2, this.shxLength);
    this.shx.writeInt32BE(length / 2, this.shxLength + 4);
    this.shxLength += 8;
    this.shpLength += 8 + length;
    this.appendDbfRecord(row);
    this.records++;
  }

  private appendDbfRecord(row: readonly Cell[]): void {
    const record = this.dbfBytes.reserve(this.recordLength);
    const start = this.dbfBytes.at;
    record.fill(0x20, start, start + this.recordLength);
    let at = start + 1;
    for (let i = 0; i < this.fields.length; i++) {
      const field = this.fields[i]!;
      const value = row[i];
      if (value === null || value === undefined) {
        if (field.type === 'N') record.fill(0x2a, at, at + field.width);
      } else if (field.type === 'C') {
        const text = String(value);
        // At most 3 UTF-8 bytes per UTF-16 unit: only a long text needs its length measured.
        if (text.length * 3 > field.width && Buffer.byteLength(text, 'utf8') > field.width) fail(); // GDAL would cut it, maybe inside a character
        record.write(text, at, 'utf8');
      } else {
        record.write(fixed(Number(value), field.width, field.decimals), at, 'latin1');
      }
      at += field.width;
    }
    this.dbfBytes.at = start + this.recordLength;
  }

  private dbfHeader(records: number, today: Date): Buffer {
    const header = Buffer.alloc(32 + 32 * this.fields.length + 1);
    header[0] = 0x03;
    header[1] = today.getFullYear() - 1900;
    header[2] = today.getMonth() + 1;
    header[3] = today.getDate();
    header.writeUInt32LE(records, 4);
    header.writeUInt16LE(header.length, 8);
    header.writeUInt16LE(this.recordLength, 10);
    this.fields.forEach((field, i) => {
      const at = 32 + 32 * i;
      header.write(field.name, at, 'latin1');
      header.write(field.type, at + 11, 'latin1');
      header[at + 16] = field.width;
      header[at + 17] = field.decimals;
    });
    header[header.length - 1] = 0x0d;
    return header;
  }

  private shpHeader(length: number): Buffer {
    const header = Buffer.alloc(100);
    header.writeInt32BE(9994, 0);
    header.writeInt32BE(length / 2, 24);
    header.writeInt32LE(1000, 28);
    header.writeInt32LE(this.shapeType, 32);
    const [minX, minY, maxX, maxY] = this.records > 0 ? this.bounds : [0, 0, 0, 0];
    header.writeDoubleLE(minX, 36);
    header.writeDoubleLE(minY, 44);
    header.writeDoubleLE(maxX, 52);
    header.writeDoubleLE(maxY, 60);
    return header;
  }

  async flush(): Promise<void> {
    await this.shpBytes.writeTo(this.shp);
    await this.dbfBytes.writeTo(this.dbf, this.deflation);
  }

  /** Closes the files without finishing them (the export failed; its directory goes). */
  async abandon(): Promise<void> {
    await Promise.allSettled([this.shp?.close(), this.dbf?.close(), this.deflation?.abandon()]);
  }

  /** Finishes the files; resolves to the .dbf's ready deflate stream when the speculation held. */
  async close(): Promise<DeflatedMember | undefined> {
    await this.flush();
    await this.shp.write(this.shpHeader(this.shpLength), 0, 100, 0);
    await this.shp.close();
    const end = Buffer.from([0x1a]);
    await this.dbf.write(end);
    const header = this.dbfHeader(this.records, new Date());
    await this.dbf.write(header, 0, undefined, 0);
    await this.dbf.close();
    let member: DeflatedMember | undefined;
    if (this.deflation && this.speculatedHeader?.equals(header)) {
      await this.deflation.push(end);
      member = await this.deflation.finish();
    } else {
      await this.deflation?.abandon();
    }
    // A deflation not used leaves nothing beside the zip.
    if (!member && this.deflatedPath) rmSync(this.deflatedPath, { force: true });
    const shx = await open(`${this.base}.shx`, 'w');
    await shx.write(this.shpHeader(100 + 8 * this.records));
    await shx.write(this.shx.subarray(0, this.shxLength));
    await shx.close();
    const prj = await open(`${this.base}.prj`, 'w');
    await prj.write(WGS84_ESRI_WKT);
    await prj.close();
    const cpg = await open(`${this.base}.cpg`, 'w');
    await cpg.write('UTF-8');
    await cpg.close();
    return member;
  }

  get dbfPath(): string {
    return `${this.base}.dbf`;
  }
}

/** Writes the zipped Shapefile of a job; throws FastPathUnavailable when GDAL must do it. */
export async function runShapefileExport(request: ExportRequest, isCancelled: () => boolean, shaping: BoundaryShaping): Promise<ExportResult | 'cancelled'> {
  const sources = resolveLayers(request.layers);
  const includeAttributes = includeAttributesOf(request.parameters);
  const directory = jobDirectory(request);
  const workdir = join(directory, 'shapefile');
  mkdirSync(workdir, { recursive: true });
  const path = join(directory, `${request.countyId}_gis_export.zip`);
  const layers = new Map<LayerSource, ShapefileLayer>();
  const openings: Promise<void>[] = [];
  // A second connection counts each layer's rows while the first streams them (0 or a failure: no speculation).
  const rect = rectangleOf(request.areaOfInterest);
  const counting = exportClient(request.databaseUrl, request.schema);
  counting.on('error', () => undefined); // a lost counting connection only loses the speculation
  const connected = counting.connect().then(() => true, () => false);
  const expected = (source: LayerSource) =>
    connected.then((ok) => (ok && rect ? countRows(counting, source, request.countyId, rect) : undefined)).catch(() => undefined);
  try {
    const count = await shapeFeatures(request, sources, {
      layer(source) {
        // Without fields GDAL adds an FID column on its own: not reproduced, the worker does it.
        const fields = includeAttributes && source.fields.length > 0 ? dbfFields(source.fields) : fail();
        const layer = new ShapefileLayer(join(workdir, source.name), source.dimension === 2 ? SHPT_POLYGON : SHPT_POLYLINE, fields);
        layers.set(source, layer);
        openings.push(layer.open(expected(source), join(directory, `${source.name}.dbf.deflated`)));
      },
      feature(source, row, geometry) {
        layers.get(source)!.write(row, partsOf(geometry, source.dimension === 2));
        return true;
      },
      async flush() {
        await Promise.all(openings);
        for (const layer of layers.values()) await layer.flush();
      },
    }, isCancelled, shaping);
    await Promise.all(openings);
    const deflated = new Map<string, DeflatedMember>();
    for (const layer of layers.values()) {
      const member = await layer.close();
      if (member) deflated.set(layer.dbfPath, member);
    }
    if (count === 'cancelled') {
      rmSync(directory, { recursive: true, force: true });
      return 'cancelled';
    }
    await writeZip(path, readdirSync(workdir).sort().map((name) => join(workdir, name)), deflated);
    rmSync(workdir, { recursive: true, force: true });
    for (const member of deflated.values()) rmSync(member.path, { force: true });
    return { path, fileSizeKb: Math.ceil(statSync(path).size / 1024), recordCount: count };
  } catch (error) {
    await Promise.allSettled(openings);
    for (const layer of layers.values()) await layer.abandon();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  } finally {
    await connected;
    await counting.end().catch(() => undefined);
  }
}
