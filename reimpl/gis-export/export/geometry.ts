/**
 * Geometry shaping of exported features: area-of-interest clip, simplify, reproject.
 * Reproduces legacy terrafusion_sync/gis/geometry.py, in the same order as ogr2ogr (clip and
 * simplify in EPSG:4326, then reproject) and with the same error messages.
 */
import gdal from 'gdal-async';
import { ExportError } from './formats.js';

// gdal-async has no per-SRS axis mapping call; GDAL >= 3.5 reads this default instead, so
// every SRS keeps lon/lat as x/y like legacy's OAMS_TRADITIONAL_GIS_ORDER.
gdal.config.set('OSR_DEFAULT_AXIS_MAPPING_STRATEGY', 'TRADITIONAL_GIS_ORDER');

export const WGS84 = gdal.SpatialReference.fromUserInput('EPSG:4326');

export function targetSrs(coordinateSystem: unknown): gdal.SpatialReference {
  try {
    return gdal.SpatialReference.fromUserInput(String(coordinateSystem));
  } catch {
    throw new ExportError(`Unsupported coordinate system '${pythonStr(coordinateSystem)}'`);
  }
}

function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const flatten = (type: number) => type & ~gdal.wkb25DBit & 0xffff;

/**
 * Legacy's GDAL bindings run without exceptions: ogr.CreateGeometryFromJson answers None for
 * GeoJSON it cannot read (coordinates: -1, say), and the next method call on it fails with
 * Python's AttributeError text, which becomes the job's message. null stands for that None.
 */
function polygonFromGeoJson(geometry: unknown): gdal.Geometry | null {
  const type = (geometry as { type?: unknown } | null)?.type;
  if (!geometry || typeof geometry !== 'object' || (type !== 'Polygon' && type !== 'MultiPolygon')) {
    throw new ExportError('area_of_interest must be a GeoJSON Polygon, MultiPolygon or FeatureCollection of them');
  }
  try {
    return gdal.Geometry.fromGeoJson(geometry);
  } catch {
    return null;
  }
}

/** Python's message for a method called on None. */
const noneHasNo = (method: string) => new ExportError(`'NoneType' object has no attribute '${method}'`);

/** One (multi)polygon from a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection. */
export function parseAreaOfInterest(aoi: unknown): gdal.Geometry {
  const object = aoi && typeof aoi === 'object' ? (aoi as Record<string, unknown>) : {};
  let geometry: gdal.Geometry | null;
  if (object.type === 'FeatureCollection') {
    const features = Array.isArray(object.features) ? object.features : [];
    const parts = features.map((f) => polygonFromGeoJson((f as { geometry?: unknown } | null)?.geometry));
    if (parts.length === 0) throw new ExportError('area_of_interest FeatureCollection has no features');
    const collection = new gdal.MultiPolygon();
    for (const part of parts) {
      if (!part) throw noneHasNo('GetGeometryType');
      if (flatten(part.wkbType) === gdal.wkbMultiPolygon) for (const child of (part as gdal.MultiPolygon).children) collection.children.add(child);
      else collection.children.add(part);
    }
    geometry = collection.unionCascaded();
  } else if (object.type === 'Feature') {
    geometry = polygonFromGeoJson(object.geometry);
  } else {
    geometry = polygonFromGeoJson(aoi);
  }
  if (!geometry) throw noneHasNo('IsValid');
  if (!geometry.isValid()) geometry = geometry.makeValid();
  if (geometry.isEmpty()) throw new ExportError('area_of_interest is empty');
  return geometry;
}

const MULTI: Record<number, () => gdal.GeometryCollection> = {
  0: () => new gdal.MultiPoint(),
  1: () => new gdal.MultiLineString(),
  2: () => new gdal.MultiPolygon(),
};
const MULTI_TYPES = new Set([gdal.wkbMultiPoint, gdal.wkbMultiLineString, gdal.wkbMultiPolygon]);

/** The parts of `geometry` of the given dimension (a parcel touching the AOI edge yields a line too). */
export function keepDimension(geometry: gdal.Geometry | null, dimension: number): gdal.Geometry | null {
  if (!geometry || geometry.isEmpty()) return null;
  const type = flatten(geometry.wkbType);
  if (geometry.dimension === dimension && type !== gdal.wkbGeometryCollection) return geometry;
  if (!(geometry instanceof gdal.GeometryCollection)) return null;
  const parts: gdal.Geometry[] = [];
  for (const child of geometry.children) {
    const kept = keepDimension(child, dimension);
    if (kept) parts.push(kept);
  }
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!.clone();
  const multi = MULTI[dimension]!();
  for (const part of parts) {
    if (part instanceof gdal.GeometryCollection && MULTI_TYPES.has(flatten(part.wkbType))) for (const c of part.children) multi.children.add(c);
    else multi.children.add(part);
  }
  return multi;
}

export type Bbox = readonly [number, number, number, number];

/** Turns a stored GeoJSON geometry into the exported one, or null when it falls outside. */
export class FeatureShaper {
  readonly bbox: Bbox;
  private readonly rectangle: boolean;
  private readonly transform: gdal.CoordinateTransformation | null;

  constructor(private readonly aoi: gdal.Geometry, private readonly tolerance: number, srs: gdal.SpatialReference) {
    const e = aoi.getEnvelope();
    this.bbox = [e.minX, e.minY, e.maxX, e.maxY];
    // A rectangular AOI lets features whose bbox lies inside it skip GEOS entirely.
    const envelopeArea = (e.maxX - e.minX) * (e.maxY - e.minY);
    this.rectangle =
      flatten(aoi.wkbType) === gdal.wkbPolygon &&
      (aoi as gdal.Polygon).rings.get(0).points.count() === 5 &&
      Math.abs((aoi as gdal.Polygon).getArea() - envelopeArea) <= envelopeArea * 1e-12;
    this.transform = srs.isSame(WGS84) ? null : new gdal.CoordinateTransformation(WGS84, srs);
  }

  shape(geojson: string, dimension: number, rowBbox: readonly (number | null)[]): gdal.Geometry | null {
    let geometry: gdal.Geometry;
    try {
      geometry = gdal.Geometry.fromGeoJsonBuffer(Buffer.from(geojson));
    } catch {
      return null; // an unreadable stored geometry is skipped, not fatal to the export
    }
    if (!geometry || geometry.isEmpty()) return null;
    const [minx, miny, maxx, maxy] = rowBbox;
    const inside =
      this.rectangle && minx !== null && minx! >= this.bbox[0] && maxx! <= this.bbox[2] && miny! >= this.bbox[1] && maxy! <= this.bbox[3];
    if (!inside) {
      if (!geometry.intersects(this.aoi)) return null;
      if (!this.aoi.contains(geometry)) {
        const clipped = keepDimension(geometry.intersection(this.aoi), dimension);
        if (!clipped) return null;
        geometry = clipped;
      }
    }
    if (this.tolerance > 0) {
      const simplified = geometry.simplifyPreserveTopology(this.tolerance);
      if (simplified && !simplified.isEmpty()) geometry = simplified;
    }
    if (this.transform) geometry.transform(this.transform);
    return geometry;
  }
}
