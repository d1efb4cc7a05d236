/**
 * OGR writers of the export formats, one sink per format. Reproduces legacy
 * terrafusion_sync/gis/writers.py: GeoJSON and CSV get one combined layer with a `layer`
 * attribute and the union of the fields; KML and GeoPackage one layer per source (GeoPackage
 * promoted to multi geometries, in one transaction); Shapefile one .shp per layer and shape
 * family, zipped.
 */
import gdal from 'gdal-async';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExportError, type FieldKind, type FieldSpec, type LayerSource } from './formats.js';
import { writeZip } from './zip.js';

const OGR_TYPE: Record<FieldKind, string> = { string: gdal.OFTString, real: gdal.OFTReal, integer: gdal.OFTInteger, date: gdal.OFTDate };

type Cell = string | number | null;

function createFields(layer: gdal.Layer, fields: readonly FieldSpec[]): void {
  for (const field of fields) layer.fields.add(new gdal.FieldDefn(field.name, OGR_TYPE[field.kind]));
}

/** Writes rows of one source into one OGR layer; `index[i]` is the output field of row column i. */
class LayerWriter {
  constructor(
    private readonly layer: gdal.Layer,
    private readonly fields: readonly FieldSpec[],
    private readonly index: readonly number[],
    private readonly constant?: [number, string],
    private readonly promote?: (g: gdal.Geometry) => gdal.Geometry,
  ) {}

  write(row: readonly Cell[], geometry: gdal.Geometry): boolean {
    const feature = new gdal.Feature(this.layer);
    for (let i = 0; i < this.fields.length; i++) {
      const value = row[i];
      if (value !== null && value !== undefined) feature.fields.set(this.index[i]!, value);
    }
    if (this.constant) feature.fields.set(this.constant[0], this.constant[1]);
    feature.setGeometry(this.promote ? this.promote(geometry) : geometry);
    this.layer.features.add(feature);
    return true;
  }
}

export interface Writer {
  write(row: readonly Cell[], geometry: gdal.Geometry): boolean;
}

export abstract class Sink {
  abstract readonly extension: string;
  constructor(
    protected readonly directory: string,
    protected readonly basename: string,
    protected readonly sources: readonly LayerSource[],
    protected readonly srs: gdal.SpatialReference,
    protected readonly includeAttributes: boolean,
  ) {}
  get path(): string {
    return join(this.directory, `${this.basename}.${this.extension}`);
  }
  fieldsOf(source: LayerSource): readonly FieldSpec[] {
    return this.includeAttributes ? source.fields : [];
  }
  abstract writer(source: LayerSource): Writer;
  abstract close(): Promise<string>;
}

const LAYER_FIELD: FieldSpec = { name: 'layer', kind: 'string', sql: '' };

class CombinedSink extends Sink {
  readonly extension: string;
  private dataset: gdal.Dataset;
  private readonly layer: gdal.Layer;
  private readonly union: FieldSpec[] = [LAYER_FIELD];

  constructor(driver: string, extension: string, layerOptions: string[], ...args: ConstructorParameters<typeof Sink>) {
    super(...args);
    this.extension = extension;
    this.dataset = gdal.drivers.get(driver).create(this.path);
    const name = this.sources.length === 1 ? this.sources[0]!.name : 'export';
    this.layer = this.dataset.layers.create(name, this.srs, gdal.wkbUnknown, layerOptions);
    for (const source of this.sources) {
      for (const field of this.fieldsOf(source)) if (!this.union.some((f) => f.name === field.name)) this.union.push(field);
    }
    createFields(this.layer, this.union);
  }

  writer(source: LayerSource): Writer {
    const fields = this.fieldsOf(source);
    const names = this.union.map((f) => f.name);
    return new LayerWriter(this.layer, fields, fields.map((f) => names.indexOf(f.name)), [0, source.name]);
  }

  async close(): Promise<string> {
    this.dataset.close();
    return this.path;
  }
}

class MultiLayerSink extends Sink {
  readonly extension: string;
  protected dataset: gdal.Dataset;
  constructor(driver: string, extension: string, private readonly multi: boolean, ...args: ConstructorParameters<typeof Sink>) {
    super(...args);
    this.extension = extension;
    this.dataset = gdal.drivers.get(driver).create(this.path);
    // One transaction for the whole GeoPackage: per-feature autocommit makes SQLite crawl.
    if (multi) sqliteStatement(this.dataset, 'BEGIN');
  }

  writer(source: LayerSource): Writer {
    const polygonal = source.dimension === 2;
    const type = this.multi ? (polygonal ? gdal.wkbMultiPolygon : gdal.wkbMultiLineString) : gdal.wkbUnknown;
    const layer = this.dataset.layers.create(source.name, this.srs, type);
    const fields = this.fieldsOf(source);
    createFields(layer, fields);
    const promote = this.multi ? (polygonal ? toMulti(gdal.wkbPolygon, () => new gdal.MultiPolygon()) : toMulti(gdal.wkbLineString, () => new gdal.MultiLineString())) : undefined;
    return new LayerWriter(layer, fields, fields.map((_f, i) => i), undefined, promote);
  }

  async close(): Promise<string> {
    if (this.multi) sqliteStatement(this.dataset, 'COMMIT');
    this.dataset.close();
    return this.path;
  }
}

/** BEGIN/COMMIT on a SQLite-based dataset: GDAL runs them but returns no result layer, which
 * gdal-async reports as an (empty) error; the statement itself has taken effect. */
function sqliteStatement(dataset: gdal.Dataset, statement: 'BEGIN' | 'COMMIT'): void {
  try {
    dataset.executeSQL(statement);
  } catch {
    // no result set: expected
  }
}

function toMulti(single: number, make: () => gdal.GeometryCollection) {
  return (geometry: gdal.Geometry): gdal.Geometry => {
    if ((geometry.wkbType & 0xff) !== single) return geometry;
    const multi = make();
    multi.children.add(geometry);
    return multi;
  };
}

const SHAPE_FAMILY: Record<number, [string, number]> = {
  [gdal.wkbPoint]: ['point', gdal.wkbPoint],
  [gdal.wkbMultiPoint]: ['multipoint', gdal.wkbMultiPoint],
  [gdal.wkbLineString]: ['line', gdal.wkbLineString],
  [gdal.wkbMultiLineString]: ['line', gdal.wkbLineString],
  [gdal.wkbPolygon]: ['polygon', gdal.wkbPolygon],
  [gdal.wkbMultiPolygon]: ['polygon', gdal.wkbPolygon],
};

class ShapefileSink extends Sink {
  readonly extension = 'zip';
  private readonly workdir: string;
  private dataset: gdal.Dataset;

  constructor(...args: ConstructorParameters<typeof Sink>) {
    super(...args);
    this.workdir = join(this.directory, 'shapefile');
    mkdirSync(this.workdir, { recursive: true });
    this.dataset = gdal.drivers.get('ESRI Shapefile').create(this.workdir);
  }

  writer(source: LayerSource): Writer {
    const home = source.dimension === 2 ? 'polygon' : 'line';
    const writers = new Map<string, LayerWriter>();
    const writerFor = (family: string, shapeType: number): LayerWriter => {
      let writer = writers.get(family);
      if (!writer) {
        const name = family === home ? source.name : `${source.name}_${family}`;
        const layer = this.dataset.layers.create(name, this.srs, shapeType, ['ENCODING=UTF-8']);
        const fields = this.fieldsOf(source);
        createFields(layer, fields);
        writer = new LayerWriter(layer, fields, fields.map((_f, i) => i));
        writers.set(family, writer);
      }
      return writer;
    };
    // The layer's own shapefile exists even when nothing falls in the area of interest.
    writerFor(home, home === 'polygon' ? gdal.wkbPolygon : gdal.wkbLineString);
    return {
      write: (row, geometry) => {
        const family = SHAPE_FAMILY[geometry.wkbType & 0xff];
        if (!family) return false; // a geometry collection has no shapefile shape type
        return writerFor(family[0], family[1]).write(row, geometry);
      },
    };
  }

  async close(): Promise<string> {
    this.dataset.close();
    const files = readdirSync(this.workdir).sort().map((name) => join(this.workdir, name));
    await writeZip(this.path, files);
    rmSync(this.workdir, { recursive: true, force: true });
    return this.path;
  }
}

export function openSink(format: string, directory: string, basename: string, sources: readonly LayerSource[], srs: gdal.SpatialReference, includeAttributes: boolean): Sink {
  const args = [directory, basename, sources, srs, includeAttributes] as const;
  switch (format) {
    case 'GeoJSON':
      return new CombinedSink('GeoJSON', 'geojson', [], ...args);
    case 'CSV':
      return new CombinedSink('CSV', 'csv', ['GEOMETRY=AS_WKT'], ...args);
    case 'KML':
      return new MultiLayerSink('KML', 'kml', false, ...args);
    case 'GeoPackage':
      return new MultiLayerSink('GPKG', 'gpkg', true, ...args);
    case 'Shapefile':
      return new ShapefileSink(...args);
    default:
      throw new ExportError(`No writer for export format '${format}'`);
  }
}
