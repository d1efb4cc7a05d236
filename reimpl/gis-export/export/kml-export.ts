/**
 * The KML export written by TypeScript, streamed, without GDAL for the common case (EPSG:4326,
 * rectangular area of interest). Reproduces what legacy terrafusion_sync/gis/writers.py
 * KmlSink gets from GDAL 3.6's KML driver, byte for byte:
 * - the driver puts its own Name and Description first in every layer, and legacy sets field i
 *   of the layer from row column i, so every value lands one or two fields on (property_id in
 *   <name>, county_id in <description>, land_area_sqft in property_type...) and OGR converts it
 *   to that field's type: a real into a string `%.16g`, into an integer truncated and clamped to
 *   32 bits, a string into a real by strtod's leading number (a date becomes its year);
 * - reals print `%.15g`, leading spaces of every value are cut, text is XML-escaped (control
 *   characters dropped, a BOM as `&#xFEFF;`);
 * - coordinates as OGR's WKT coordinates joined by commas; lines and polygons carry OGR's
 *   default Style; the first layer's Schema precedes its Folder, the Schemas of later layers
 *   that got features follow the last Folder, a layer without features has none.
 * What it cannot reproduce with certainty throws FastPathUnavailable and the job runs on the
 * GDAL worker (docs/decisions/0031-gis-export-kml-geopackage-writers-and-memory.md).
 */
import { resolveLayers, type FieldKind, type LayerSource } from './formats.js';
import type { BoundaryShaping } from './boundary-shaping.js';
import { ogrRealAsInteger, ogrRealAsString, ogrRealText, ogrStringAsReal, wktCoordinate } from './gdal-number-text.js';
import type { ExportRequest, ExportResult } from './run-export.js';
import { FastPathUnavailable, includeAttributesOf, streamTextFile, type Cell, type Shaped } from './text-export.js';

function fail(): never {
  throw new FastPathUnavailable();
}

const KML_TYPE: Record<FieldKind, string> = { string: 'string', real: 'float', integer: 'int', date: 'string' };
const STYLE = '\t<Style><LineStyle><color>ff0000ff</color></LineStyle><PolyStyle><fill>0</fill></PolyStyle></Style>\n';

// OGRGetXML_UTF8_EscapedString after the KML writer cut the leading spaces.
function xmlText(value: string): string {
  let start = 0;
  while (value.charCodeAt(start) === 32) start++;
  const text = start > 0 ? value.slice(start) : value;
  // eslint-disable-next-line no-control-regex
  if (!/[<>&"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufeff]/.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '"') out += '&quot;';
    else if (ch === '\ufeff') out += '&#xFEFF;';
    else if (code < 0x20 && code !== 9 && code !== 10 && code !== 13) continue;
    else out += ch;
  }
  return out;
}

/** The text OGR's KML writer prints for `value` (of kind `given`) set into a field of kind `field`. */
function fieldText(value: string | number, given: FieldKind, field: FieldKind): string {
  const numeric = given === 'real' || given === 'integer';
  if (numeric && typeof value !== 'number') fail();
  if (!numeric && typeof value !== 'string') fail();
  switch (field) {
    case 'string':
    case 'date':
      return given === 'real' ? (ogrRealAsString(value as number) ?? fail()) : given === 'integer' ? String(value) : xmlText(value as string);
    case 'real':
      return ogrRealText(numeric ? (value as number) : (ogrStringAsReal(value as string) ?? fail())) ?? fail();
    case 'integer':
      if (!numeric) fail();
      return String(ogrRealAsInteger(value as number) ?? fail());
  }
}

function coordinates(points: readonly unknown[]): string {
  let out = '<coordinates>';
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as number[];
    if (point.length !== 2) fail();
    const [x, y] = point as [number, number];
    // The driver wraps longitudes and clamps latitudes outside the globe, with a warning.
    if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) fail();
    out += `${i > 0 ? ' ' : ''}${wktCoordinate(x) ?? fail()},${wktCoordinate(y) ?? fail()}`;
  }
  return `${out}</coordinates>`;
}

function polygon(rings: readonly unknown[]): string {
  let out = `<Polygon><outerBoundaryIs><LinearRing>${coordinates(rings[0] as unknown[])}</LinearRing></outerBoundaryIs>`;
  for (let r = 1; r < rings.length; r++) out += `<innerBoundaryIs><LinearRing>${coordinates(rings[r] as unknown[])}</LinearRing></innerBoundaryIs>`;
  return `${out}</Polygon>`;
}

function geometryText(geometry: Shaped): string {
  const c = geometry.coordinates;
  switch (geometry.type) {
    case 'Polygon':
      return polygon(c);
    case 'MultiPolygon':
      return `<MultiGeometry>${c.map((p) => polygon(p as unknown[])).join('')}</MultiGeometry>`;
    case 'LineString':
      return `<LineString>${coordinates(c)}</LineString>`;
    case 'MultiLineString':
      return `<MultiGeometry>${c.map((l) => `<LineString>${coordinates(l as unknown[])}</LineString>`).join('')}</MultiGeometry>`;
    default:
      return fail();
  }
}

/** One layer of the document: the driver's Name and Description, then the source's fields. */
class KmlLayer {
  /** Kind of each output field, Name and Description first. */
  readonly kinds: FieldKind[];
  readonly names: string[];
  /** Kind of each row column: legacy sets row column i into field i, so only the first `fields.length` fields get a value. */
  private readonly given: FieldKind[];
  features = 0;

  constructor(readonly source: LayerSource, includeAttributes: boolean) {
    const fields = includeAttributes ? source.fields : [];
    if (fields.some((f) => f.name.toLowerCase() === 'name' || f.name.toLowerCase() === 'description' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name))) fail();
    this.kinds = ['string', 'string', ...fields.map((f) => f.kind)];
    this.names = ['Name', 'Description', ...fields.map((f) => f.name)];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(source.name)) fail();
    this.given = fields.map((f) => f.kind);
  }

  schema(): string {
    if (this.names.length <= 2) return '';
    let out = `<Schema name="${this.source.name}" id="${this.source.name}">\n`;
    for (let k = 2; k < this.names.length; k++) out += `\t<SimpleField name="${this.names[k]}" type="${KML_TYPE[this.kinds[k]!]}"></SimpleField>\n`;
    return `${out}</Schema>\n`;
  }

  placemark(row: readonly Cell[], geometry: Shaped): string {
    let out = '  <Placemark>\n';
    let extended = '';
    for (let i = 0; i < this.given.length; i++) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      const text = fieldText(value, this.given[i]!, this.kinds[i]!);
      if (i === 0) out += `\t<name>${text}</name>\n`;
      else if (i === 1) out += `\t<description>${text}</description>\n`;
      else extended += `\t\t<SimpleData name="${this.names[i]}">${text}</SimpleData>\n`;
    }
    out += STYLE;
    if (extended) out += `\t<ExtendedData><SchemaData schemaUrl="#${this.source.name}">\n${extended}\t</SchemaData></ExtendedData>\n`;
    this.features++;
    return `${out}      ${geometryText(geometry)}\n  </Placemark>\n`;
  }
}

/** Writes the KML file of a job; throws FastPathUnavailable when GDAL must do it. */
export async function runKmlExport(request: ExportRequest, isCancelled: () => boolean, shaping: BoundaryShaping): Promise<ExportResult | 'cancelled'> {
  const sources = resolveLayers(request.layers);
  const includeAttributes = includeAttributesOf(request.parameters);
  const layers = sources.map((source) => new KmlLayer(source, includeAttributes));
  return streamTextFile(request, sources, 'kml', isCancelled, shaping, (emit) => {
    let current: KmlLayer | undefined;
    // The first layer's Folder opens at its first feature (after its Schema) or when the next layer starts.
    let folderOpen = false;
    const openFolder = () => {
      if (!folderOpen) emit(`<Folder><name>${current!.source.name}</name>\n`);
      folderOpen = true;
    };
    return {
      header: '<?xml version="1.0" encoding="utf-8" ?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document id="root_doc">\n',
      sink: {
        layer(source) {
          if (current) {
            openFolder();
            emit('</Folder>\n');
          }
          current = layers[sources.indexOf(source)]!;
          folderOpen = false;
          if (current !== layers[0]) openFolder();
        },
        feature(_source, row, geometry) {
          const layer = current!;
          const placemark = layer.placemark(row, geometry);
          if (layer === layers[0] && layer.features === 1) emit(layer.schema());
          openFolder();
          emit(placemark);
          return true;
        },
      },
      footer() {
        let end = '';
        if (!folderOpen) end += `<Folder><name>${current!.source.name}</name>\n`;
        end += '</Folder>\n';
        for (const layer of layers.slice(1)) if (layer.features > 0) end += layer.schema();
        return `${end}</Document></kml>\n`;
      },
    };
  });
}
